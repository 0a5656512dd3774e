namespace T5Gemma2.Rag.Encoder.Images;

/// <summary>An image that cannot be used: missing, empty, not an image, corrupt, truncated, or larger than the decode limit. The message names it.</summary>
public sealed class ImageFileException : T5RagException
{
    /// <param name="source">The file (or the name a caller gave the bytes).</param>
    /// <param name="problem">What is wrong and what was expected, without the name.</param>
    public ImageFileException(string source, string problem, Exception? innerException = null)
        : base($"{source}: {problem}", innerException)
    {
        this.FilePath = source;
    }

    /// <summary>The file (or the name given to the bytes) the message names.</summary>
    public string FilePath { get; }

    public override FailureKind Kind => FailureKind.InputFile;
}
