namespace T5Gemma2.Rag.Answering;

/// <summary>
/// The chat model that answers (an OpenAI-compatible or Ollama endpoint, any <c>IChatClient</c>) could not be reached,
/// refused access, or failed; the same question may succeed later. <see cref="Exception.Message"/> names the model and
/// what kind of failure it was (an HTTP status, unreachable, a timeout) and is fit for anyone who asked;
/// <see cref="Detail"/> has where the model is and what it said, for the operator's log alone, since a provider's error
/// text can hold an internal address or part of the operator's key.
/// </summary>
public sealed class AnswererUnavailableException : T5RagException
{
    public AnswererUnavailableException(string message, string detail, Exception? innerException = null)
        : base(message, innerException)
    {
        this.Detail = detail;
    }

    /// <summary>Where the model is and its own words about the failure, in one line.</summary>
    public string Detail { get; }

    /// <summary>The message and the detail together, for the operator (a log line, the CLI's error).</summary>
    public string ForOperator => $"{this.Message}: {this.Detail}";

    public override FailureKind Kind => FailureKind.AnswererUnavailable;
}
