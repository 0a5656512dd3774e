namespace T5Gemma2.Rag.Encoder.Hub;

/// <summary>The Hugging Face Hub could not be reached, refused access, or sent a file that failed its check. The message is one line.</summary>
public sealed class HubException : T5RagException
{
    public HubException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    public override FailureKind Kind => FailureKind.HubUnavailable;
}
