namespace T5Gemma2.Rag.Encoder.Onnx;

/// <summary>An execution provider (CUDA) was asked for and this process cannot load it. The message says what to install.</summary>
public sealed class ExecutionProviderUnavailableException : InvalidOperationException
{
    public ExecutionProviderUnavailableException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
