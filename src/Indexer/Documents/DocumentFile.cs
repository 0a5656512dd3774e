namespace T5Gemma2.Rag.Indexer.Documents;

/// <summary>A file found under an indexed root.</summary>
/// <param name="FullPath">The file's absolute path.</param>
/// <param name="RelativePath">The path relative to the directory argument it was found under, with '/' separators (what globs match, and what messages show); a file argument's is its name.</param>
public sealed record DocumentFile(string FullPath, string RelativePath)
{
    /// <summary>
    /// The id of the file's document (and the prefix of its records' ids): its full path with '/' separators, so the same
    /// file gets the same id whichever working directory or relative path it was indexed from, and files under two
    /// indexed folders never collide.
    /// </summary>
    public string DocumentId => PassageIds.ForFile(this.FullPath);

    /// <summary>The folders the file must really lie in when it is opened (checked on the open handle); null: no limit.</summary>
    public Loading.AllowedFolders? Roots { get; init; }
}
