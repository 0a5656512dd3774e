namespace T5Gemma2.Rag.Cli;

/// <summary>A file given on the command line (a corpus, a list) is missing or unreadable; the message names it.</summary>
public sealed class InputFileException : T5RagException
{
    public InputFileException(string path, string problem, Exception? innerException = null)
        : base($"{path}: {problem}", innerException)
    {
    }

    public override FailureKind Kind => FailureKind.InputFile;
}
