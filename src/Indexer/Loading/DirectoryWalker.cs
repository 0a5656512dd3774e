using System.Globalization;
using T5Gemma2.Rag.Indexer.Documents;

namespace T5Gemma2.Rag.Indexer.Loading;

/// <summary>
/// Turns the paths a user names (files and directories) into the files to index, in a deterministic order, with every
/// path that cannot be indexed reported as a <see cref="WalkEntry"/> problem instead of an exception, so one unreadable
/// directory or symbolic link loop does not stop an ingest.
/// </summary>
/// <remarks>
/// <para>
/// A directory argument is walked depth-first; entries of each directory are visited in ordinal order of their names
/// (with '/' after directory names), which is exactly the ordinal order of the relative paths. A file's
/// <see cref="DocumentFile.RelativePath"/> is relative to its directory argument ('/'-separated); a file argument's is its
/// file name. Hidden entries, files not matching <see cref="DirectoryWalkOptions.Include"/>, and files and directories
/// matching <see cref="DirectoryWalkOptions.Exclude"/> are skipped silently; files no loader reads are
/// <see cref="WalkEntryKind.Unsupported"/> entries, to be counted. A file argument is taken as named (no hidden or glob
/// filter) and an unsupported one is a problem.
/// </para>
/// <para>
/// Symbolic links are followed (unless <see cref="DirectoryWalkOptions.FollowSymlinks"/> is off) with their real paths
/// resolved, but only while they stay inside the directory argument: a link out of it is a
/// <see cref="WalkEntryKind.LinkNotFollowed"/> entry unless <see cref="DirectoryWalkOptions.FollowLinksOutside"/> is on.
/// With roots (see the constructor) nothing outside them is followed at all. A link back to a directory on the current walk path is a "symbolic link loop" problem, and a file or
/// directory already reached through another path (another link, another argument) is skipped silently, so nothing is
/// indexed twice.
/// </para>
/// </remarks>
public sealed class DirectoryWalker
{
    private static readonly StringComparer s_pathComparer = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;

    private readonly DocumentLoaders _loaders;
    private readonly DirectoryWalkOptions _options;
    private readonly GlobPattern[] _include;
    private readonly GlobPattern[] _exclude;
    private readonly AllowedFolders? _roots;

    /// <param name="loaders">The formats to find.</param>
    /// <param name="options">Globs, hidden entries, links, size limit.</param>
    /// <param name="roots">
    /// A boundary: nothing whose real path is outside these folders is yielded (arguments, entries, link targets), each
    /// such path is a problem that says only <see cref="AllowedFolders.Outside"/>, and every file yielded carries them so
    /// its loader checks the opened file again.
    /// </param>
    public DirectoryWalker(DocumentLoaders loaders, DirectoryWalkOptions? options = null, AllowedFolders? roots = null)
    {
        ArgumentNullException.ThrowIfNull(loaders);
        this._loaders = loaders;
        this._roots = roots;
        this._options = options ?? new DirectoryWalkOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(this._options.MaxFileBytes, nameof(options));
        this._include = [.. this._options.Include.Select(p => new GlobPattern(p))];
        this._exclude = [.. this._options.Exclude.Select(p => new GlobPattern(p))];
    }

    /// <summary>The files under <paramref name="paths"/> (files or directories, in the order given), and the problems found.</summary>
    public IEnumerable<WalkEntry> Walk(IEnumerable<string> paths, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        return this.WalkCore(paths, cancellationToken);
    }

    /// <summary>"100 MiB", "1.5 KiB", "12 bytes": a size for messages.</summary>
    public static string FormatBytes(long bytes)
    {
        string[] units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0 || value == Math.Floor(value)
            ? string.Create(CultureInfo.InvariantCulture, $"{value:0} {units[unit]}")
            : string.Create(CultureInfo.InvariantCulture, $"{value:0.0} {units[unit]}");
    }

    private IEnumerable<WalkEntry> WalkCore(IEnumerable<string> paths, CancellationToken cancellationToken)
    {
        var files = new HashSet<string>(s_pathComparer);
        var directories = new HashSet<string>(s_pathComparer);
        foreach (string argument in paths)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string full = Path.GetFullPath(argument);
            if (this._roots is { } roots && !roots.Contains(full))
            {
                // Before any existence check: outside the roots, a path that exists and one that does not look the same.
                yield return WalkEntry.ForProblem(full, AllowedFolders.Outside);
            }
            else if (Directory.Exists(full))
            {
                foreach (var entry in this.WalkDirectory(full, files, directories, cancellationToken))
                {
                    yield return entry;
                }
            }
            else if (File.Exists(full))
            {
                if (this.NamedFile(full, files) is { } entry)
                {
                    yield return entry;
                }
            }
            else
            {
                yield return WalkEntry.ForProblem(full, IsLink(full) ? "broken symbolic link" : "not found");
            }
        }
    }

    private WalkEntry? NamedFile(string full, HashSet<string> files)
    {
        if (this._loaders.ForFile(full) is null)
        {
            return WalkEntry.ForProblem(full, $"unsupported extension; expected one of {string.Join(", ", this._loaders.Extensions)}");
        }

        if (!RealPath.TryResolve(full, out string? real))
        {
            return WalkEntry.ForProblem(full, "symbolic link loop");
        }

        return files.Add(real) ? this.SizeChecked(new DocumentFile(full, Path.GetFileName(full)), real) : null;
    }

    private IEnumerable<WalkEntry> WalkDirectory(string root, HashSet<string> files, HashSet<string> directories, CancellationToken cancellationToken)
    {
        if (!RealPath.TryResolve(root, out string? rootReal))
        {
            yield return WalkEntry.ForProblem(root, "symbolic link loop");
            yield break;
        }

        // Links that lead out of the folder given are not followed unless asked: indexing a folder reads that folder.
        var tree = this._options.FollowLinksOutside ? null : AllowedFolders.Create([rootReal]);
        var pending = new Stack<object>();
        pending.Push(new DirectoryNode(root, string.Empty, rootReal, null));
        while (pending.Count > 0)
        {
            switch (pending.Pop())
            {
                case WalkEntry ready:
                    yield return ready;
                    break;
                case FileNode file:
                    if (this.ClassifyFile(file, files) is { } entry)
                    {
                        yield return entry;
                    }

                    break;
                case DirectoryNode directory:
                    cancellationToken.ThrowIfCancellationRequested();
                    if (!directories.Add(directory.Real))
                    {
                        break; // already walked through another path
                    }

                    var (children, problem) = this.List(directory, tree);
                    if (problem is not null)
                    {
                        yield return problem;
                        break;
                    }

                    for (int i = children.Count - 1; i >= 0; i--)
                    {
                        pending.Push(children[i].Node);
                    }

                    break;
            }
        }
    }

    /// <summary>The directory's entries to visit, sorted, each a node to expand or an entry ready to report.</summary>
    private (List<(string Key, object Node)> Children, WalkEntry? Problem) List(DirectoryNode directory, AllowedFolders? tree)
    {
        var children = new List<(string Key, object Node)>();
        List<FileSystemInfo> entries;
        try
        {
            entries = [.. new DirectoryInfo(directory.FullPath).EnumerateFileSystemInfos("*", new EnumerationOptions
            {
                IgnoreInaccessible = false,
                AttributesToSkip = 0,
                RecurseSubdirectories = false,
                ReturnSpecialDirectories = false,
            })];
        }
        catch (UnauthorizedAccessException)
        {
            return (children, WalkEntry.ForProblem(directory.FullPath, "permission denied"));
        }
        catch (Exception ex) when (ex is IOException or System.Security.SecurityException)
        {
            return (children, WalkEntry.ForProblem(directory.FullPath, $"cannot be read ({LoaderIO.FirstLine(ex.Message)})"));
        }

        foreach (var entry in entries)
        {
            string name = entry.Name;
            if (!this._options.IncludeHidden && (name.StartsWith('.') || entry.Attributes.HasFlag(FileAttributes.Hidden)))
            {
                continue;
            }

            string relative = directory.Relative.Length == 0 ? name : $"{directory.Relative}/{name}";
            bool isDirectory;
            string real;
            if (entry.LinkTarget is not null)
            {
                if (!this._options.FollowSymlinks)
                {
                    continue;
                }

                if (!RealPath.TryResolve(entry.FullName, out string? target))
                {
                    children.Add((name, WalkEntry.ForProblem(entry.FullName, this._roots is null ? "symbolic link loop" : AllowedFolders.Outside)));
                    continue;
                }

                // The boundary first, and in words that say nothing of the target (not even whether it exists).
                if (this._roots is { } roots && !roots.ContainsReal(target))
                {
                    children.Add((name, WalkEntry.ForProblem(entry.FullName, AllowedFolders.Outside)));
                    continue;
                }

                if (tree is not null && !tree.ContainsReal(target))
                {
                    children.Add((name, WalkEntry.ForLinkNotFollowed(entry.FullName)));
                    continue;
                }

                if (Directory.Exists(target))
                {
                    isDirectory = true;
                }
                else if (File.Exists(target))
                {
                    isDirectory = false;
                }
                else
                {
                    children.Add((name, WalkEntry.ForProblem(entry.FullName, $"broken symbolic link (to {entry.LinkTarget})")));
                    continue;
                }

                real = target;
            }
            else
            {
                isDirectory = entry is DirectoryInfo;
                real = Path.Join(directory.Real, name);
            }

            if (isDirectory)
            {
                if (this._exclude.Any(g => g.IsMatch(relative)))
                {
                    continue;
                }

                if (directory.IsSelfOrAncestor(real))
                {
                    children.Add((name + "/", WalkEntry.ForProblem(entry.FullName, $"symbolic link loop (back to {real})")));
                    continue;
                }

                children.Add((name + "/", new DirectoryNode(entry.FullName, relative, real, directory)));
            }
            else
            {
                children.Add((name, new FileNode(entry.FullName, relative, real)));
            }
        }

        children.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return (children, null);
    }

    private WalkEntry? ClassifyFile(FileNode file, HashSet<string> files)
    {
        if ((this._include.Length > 0 && !this._include.Any(g => g.IsMatch(file.Relative))) || this._exclude.Any(g => g.IsMatch(file.Relative)))
        {
            return null;
        }

        if (this._loaders.ForFile(file.FullPath) is null)
        {
            return WalkEntry.ForUnsupported(file.FullPath);
        }

        return files.Add(file.Real) ? this.SizeChecked(new DocumentFile(file.FullPath, file.Relative), file.Real) : null;
    }

    private WalkEntry SizeChecked(DocumentFile file, string real)
    {
        long size;
        try
        {
            size = new FileInfo(real).Length;
        }
        catch (Exception ex) when (LoaderIO.IsFileProblem(ex))
        {
            return WalkEntry.ForProblem(file.FullPath, LoaderIO.Unreadable(file.FullPath, ex).Reason);
        }

        return size > this._options.MaxFileBytes
            ? WalkEntry.ForProblem(file.FullPath, $"larger than {FormatBytes(this._options.MaxFileBytes)} ({FormatBytes(size)})")
            : WalkEntry.ForFile(file with { Roots = this._roots });
    }

    private static bool IsLink(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget is not null;
        }
        catch (Exception ex) when (LoaderIO.IsFileProblem(ex))
        {
            return false;
        }
    }

    private sealed record FileNode(string FullPath, string Relative, string Real);

    private sealed record DirectoryNode(string FullPath, string Relative, string Real, DirectoryNode? Parent)
    {
        /// <summary>Whether <paramref name="real"/> is this directory or one of the directories the walk came through to it.</summary>
        public bool IsSelfOrAncestor(string real)
        {
            for (var node = this; node is not null; node = node.Parent)
            {
                if (s_pathComparer.Equals(node.Real, real))
                {
                    return true;
                }
            }

            return false;
        }
    }
}
