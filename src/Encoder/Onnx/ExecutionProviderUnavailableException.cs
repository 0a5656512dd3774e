namespace T5Gemma2.Rag.Encoder.Onnx;

/// <summary>An execution provider (CUDA) was asked for and this process cannot load it. The message says what to install.</summary>
/// <remarks>
/// Was an <see cref="InvalidOperationException"/>; no caller caught it as one (every catch of that type in the project
/// surrounds JSON reading), and in the family a front end maps it by its <see cref="Kind"/>.
/// </remarks>
public sealed class ExecutionProviderUnavailableException : T5RagException
{
    public ExecutionProviderUnavailableException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    public override FailureKind Kind => FailureKind.ExecutionProviderUnavailable;
}
