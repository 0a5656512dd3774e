namespace T5Gemma2.Rag.Encoder;

/// <summary>
/// A model, tokenizer or configuration file is missing, corrupt, or not of the layout this library understands.
/// The message is one line that names the file and what was expected, fit to show a user as it is.
/// </summary>
public sealed class ModelFileException : T5RagException
{
    public ModelFileException(string filePath, string problem, Exception? innerException = null)
        : base($"{filePath}: {problem}", innerException)
    {
        this.FilePath = filePath;
        this.Problem = problem;
    }

    /// <summary>The file (or directory) the problem is in.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong, without the file name.</summary>
    public string Problem { get; }

    public override FailureKind Kind => FailureKind.InputFile;
}
