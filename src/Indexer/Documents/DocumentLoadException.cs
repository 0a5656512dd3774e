namespace T5Gemma2.Rag.Indexer.Documents;

/// <summary>A file that cannot be read as a document: the message is one line naming the file and what was expected.</summary>
public sealed class DocumentLoadException : T5RagException
{
    public DocumentLoadException(string path, string reason, Exception? innerException = null)
        : base($"{path}: {reason}", innerException)
    {
        this.Path = path;
        this.Reason = reason;
    }

    /// <summary>The file that failed.</summary>
    public string Path { get; }

    /// <summary>Why, without the path.</summary>
    public string Reason { get; }

    public override FailureKind Kind => FailureKind.InputFile;
}
