namespace T5Gemma2.Rag.Indexer.Documents;

/// <summary>A file to index: one found under an indexed root, or one staged elsewhere and known by another name (an upload).</summary>
/// <param name="FullPath">The file's absolute path: where it is read from.</param>
/// <param name="RelativePath">The path relative to the directory argument it was found under, with '/' separators (what globs match, and what messages show); a file argument's is its name.</param>
public sealed record DocumentFile(string FullPath, string RelativePath)
{
    private readonly string? _source;

    /// <summary>
    /// What the document is known by — its source, its id, the name in failure messages: the full path by default;
    /// for a file staged under a generated name (an upload), the name its sender gave it, so the staging path
    /// never reaches the index.
    /// </summary>
    public string Source
    {
        get => this._source ?? this.FullPath;
        init => this._source = value;
    }

    /// <summary>
    /// The id of the file's document (and the prefix of its records' ids): its <see cref="Source"/> with '/'
    /// separators, so a file indexed by path gets the same id whichever working directory or relative path it was
    /// indexed from, and files under two indexed folders never collide.
    /// </summary>
    public string DocumentId => PassageIds.ForFile(this.Source);

    /// <summary>The folders the file must really lie in when it is opened (checked on the open handle); null: no limit.</summary>
    public Loading.AllowedFolders? Roots { get; init; }
}
