using System.Diagnostics.CodeAnalysis;
using T5Gemma2.Rag.Indexer.Documents;

namespace T5Gemma2.Rag.Indexer.Loading;

/// <summary>
/// One result of a <see cref="DirectoryWalker"/>: a file to load, a problem to report (the walk goes on), or an
/// unsupported file to count. Problems and files come in one stream so they are reported in walk order.
/// </summary>
public sealed record WalkEntry
{
    private WalkEntry(WalkEntryKind kind, string path, DocumentFile? file, string? reason)
    {
        this.Kind = kind;
        this.Path = path;
        this.File = file;
        this.Reason = reason;
    }

    /// <summary>What this entry is.</summary>
    public WalkEntryKind Kind { get; }

    /// <summary>The path as found (under the argument it came from), for messages.</summary>
    public string Path { get; }

    /// <summary>The file to load, for <see cref="WalkEntryKind.File"/>.</summary>
    public DocumentFile? File { get; }

    /// <summary>One line saying why, for every kind but <see cref="WalkEntryKind.File"/>.</summary>
    public string? Reason { get; }

    /// <summary>Whether this is a file to load (and <see cref="File"/> is set).</summary>
    [MemberNotNullWhen(true, nameof(File))]
    public bool IsFile => this.Kind == WalkEntryKind.File;

    /// <summary>Whether this is a problem (and <see cref="Reason"/> is set).</summary>
    [MemberNotNullWhen(true, nameof(Reason))]
    public bool IsProblem => this.Kind == WalkEntryKind.Problem;

    /// <summary>A file to load.</summary>
    public static WalkEntry ForFile(DocumentFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        return new(WalkEntryKind.File, file.FullPath, file, null);
    }

    /// <summary>A path that cannot be indexed, and why in one line.</summary>
    public static WalkEntry ForProblem(string path, string reason) => new(WalkEntryKind.Problem, path, null, reason);

    /// <summary>A file inside a directory that no loader reads.</summary>
    public static WalkEntry ForUnsupported(string path) => new(WalkEntryKind.Unsupported, path, null, "unsupported extension");

    /// <summary>A symbolic link leading out of the directory being walked, left alone.</summary>
    public static WalkEntry ForLinkNotFollowed(string path) => new(WalkEntryKind.LinkNotFollowed, path, null, "symbolic link out of the folder being indexed");

    public override string ToString() => this.Kind == WalkEntryKind.File ? this.Path : $"{this.Path}: {this.Reason}";
}
