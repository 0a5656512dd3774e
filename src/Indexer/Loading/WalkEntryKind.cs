namespace T5Gemma2.Rag.Indexer.Loading;

/// <summary>What a <see cref="WalkEntry"/> is.</summary>
public enum WalkEntryKind
{
    /// <summary>A file to load: <see cref="WalkEntry.File"/> is set.</summary>
    File,

    /// <summary>A path that cannot be indexed, with a one-line <see cref="WalkEntry.Reason"/> to show the user.</summary>
    Problem,

    /// <summary>A file inside a walked directory that no loader reads: not an error, only counted (or listed when verbose).</summary>
    Unsupported,

    /// <summary>A symbolic link out of the directory being walked, not followed (<see cref="DirectoryWalkOptions.FollowLinksOutside"/>): only counted.</summary>
    LinkNotFollowed,
}
