namespace T5Gemma2.Rag.Indexer.Documents;

/// <summary>A file found under an indexed root.</summary>
/// <param name="FullPath">The file's absolute path.</param>
/// <param name="RelativePath">The path relative to the root it was found under, with '/' separators: the basis of document ids.</param>
public sealed record DocumentFile(string FullPath, string RelativePath)
{
    /// <summary>The folders the file must really lie in when it is opened (checked on the open handle); null: no limit.</summary>
    public Loading.AllowedFolders? Roots { get; init; }
}
