namespace T5Gemma2.Rag.Indexer.Loading;

/// <summary>Which files a <see cref="DirectoryWalker"/> yields from the directories it is given.</summary>
public sealed class DirectoryWalkOptions
{
    /// <summary>The default <see cref="MaxFileBytes"/>: 100 MiB.</summary>
    public const long DefaultMaxFileBytes = 100L << 20;

    /// <summary>
    /// Globs (see <see cref="GlobPattern"/>) a file's path relative to its directory argument must match one of; empty
    /// includes every file. Files named directly as arguments are not filtered.
    /// </summary>
    public IReadOnlyList<string> Include { get; init; } = [];

    /// <summary>Globs that leave a file out, or a whole directory when they match the directory's relative path ("node_modules", "build/").</summary>
    public IReadOnlyList<string> Exclude { get; init; } = [];

    /// <summary>Whether to walk into hidden files and directories: names starting with '.', or with the Hidden attribute.</summary>
    public bool IncludeHidden { get; init; }

    /// <summary>Whether to follow symbolic links to files and directories; a link back to a directory being walked is reported as a loop.</summary>
    public bool FollowSymlinks { get; init; } = true;

    /// <summary>
    /// Whether to follow symbolic links whose real target is outside the directory argument being walked (off: such
    /// links are counted as not followed, so indexing a folder reads only that folder; <c>t5rag index --follow-links</c>).
    /// </summary>
    public bool FollowLinksOutside { get; init; }

    /// <summary>Files larger than this are reported, not loaded (for .gz files the compressed size counts).</summary>
    public long MaxFileBytes { get; init; } = DefaultMaxFileBytes;
}
