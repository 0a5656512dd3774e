namespace T5Gemma2.Rag.Answering;

/// <summary>
/// The chat model that answers (an OpenAI-compatible or Ollama endpoint, any <c>IChatClient</c>) could not be reached,
/// refused access, or failed; the message names the model and what went wrong, and the same question may succeed later.
/// </summary>
public sealed class AnswererUnavailableException : T5RagException
{
    public AnswererUnavailableException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    public override FailureKind Kind => FailureKind.AnswererUnavailable;
}
