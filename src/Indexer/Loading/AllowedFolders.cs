using Microsoft.Win32.SafeHandles;
using T5Gemma2.Rag.Indexer.Documents;

namespace T5Gemma2.Rag.Indexer.Loading;

/// <summary>
/// The folders a caller (a model's tool call, an agent) may read files under: a boundary that no argument gets past.
/// Containment is decided on real paths, with every symbolic link along the path and along each root resolved, so a
/// link inside a root that points outside it, <c>..</c>, another spelling of the same place, or a root that is itself a
/// link all land where the file system would take them. Files are checked again after they are opened, on the opened
/// handle's own path, so a link swapped in between the check and the open is refused too.
/// </summary>
public sealed class AllowedFolders
{
    /// <summary>The refusal, as a caller (often a model) is told it: nothing about the file's content or existence.</summary>
    public const string Outside = "outside the allowed folders";

    // Case-insensitive where the file systems usually are; elsewhere "Docs" and "docs" are different folders.
    private static readonly StringComparison s_comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    private readonly string[] _realRoots;
    private readonly AllowedFolders? _also;

    private AllowedFolders(IReadOnlyList<string> roots, string[] realRoots, AllowedFolders? also)
    {
        this.Roots = roots;
        this._realRoots = realRoots;
        this._also = also;
    }

    /// <summary>The roots as given, for messages.</summary>
    public IReadOnlyList<string> Roots { get; }

    /// <summary>Folders from root paths (absolute, or relative to the current directory); a root that does not exist allows nothing until it does.</summary>
    /// <exception cref="ArgumentException">No root, or an empty one.</exception>
    public static AllowedFolders Create(IEnumerable<string> roots)
    {
        ArgumentNullException.ThrowIfNull(roots);
        string[] given = [.. roots];
        if (given.Length == 0 || given.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("expected at least one folder, none empty.", nameof(roots));
        }

        return new AllowedFolders(given, [.. given.Select(RealRoot)], null);
    }

    /// <summary>Folders that are inside these and inside <paramref name="other"/> too (both boundaries hold).</summary>
    public AllowedFolders And(AllowedFolders other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return new AllowedFolders(this.Roots, this._realRoots, this._also is null ? other : this._also.And(other));
    }

    /// <summary>Whether the file or folder at <paramref name="path"/>, followed to where it really is, lies inside a root.</summary>
    public bool Contains(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return RealPath.TryResolve(Path.GetFullPath(path), out string? real) && this.ContainsReal(real);
    }

    /// <summary>
    /// Reads a whole file that really lies inside a root: checked on its path before the open and on the opened handle
    /// after it, so neither <c>..</c>, a symbolic link nor a link swapped in between gets out.
    /// </summary>
    /// <param name="maxBytes">The largest file read; a larger one is refused before any of it is read.</param>
    /// <exception cref="DocumentLoadException">Outside the roots (<see cref="Outside"/>, whether or not it exists), missing, unreadable, or too large.</exception>
    public async Task<byte[]> ReadFileAsync(string path, long maxBytes, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = Path.GetFullPath(path);
        if (!this.Contains(full))
        {
            throw new DocumentLoadException(path, Outside);
        }

        // One handle, checked after the open, read in bounded steps: a file that grows, a device that never ends
        // (/dev/zero) cannot make the read take more than the limit, and a pipe is refused once it is open.
        using var stream = LoaderIO.OpenRead(new DocumentFile(full, Path.GetFileName(full)) { Roots = this });
        if (!stream.CanSeek)
        {
            throw new DocumentLoadException(path, "is not a regular file");
        }

        try
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[1 << 16];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                {
                    throw new DocumentLoadException(path, $"is over the limit of {maxBytes:N0} bytes");
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer.ToArray();
        }
        catch (Exception ex) when (LoaderIO.IsFileProblem(ex))
        {
            throw LoaderIO.Unreadable(path, ex);
        }
    }

    /// <summary>Whether an already resolved real path lies inside a root (the root itself included).</summary>
    internal bool ContainsReal(string real) =>
        this._realRoots.Any(root => IsUnder(real, root)) && (this._also is null || this._also.ContainsReal(real));

    /// <summary>Throws a <see cref="DocumentLoadException"/> for <paramref name="path"/> unless the opened file really lies inside a root.</summary>
    internal void CheckOpened(SafeFileHandle handle, string path)
    {
        // Where the system cannot name an open file, the path is resolved again just after the open: a narrower window.
        string? real = RealPath.OfOpenedFile(handle);
        if (real is null && !RealPath.TryResolve(Path.GetFullPath(path), out real))
        {
            throw new DocumentLoadException(path, Outside);
        }

        if (!this.ContainsReal(real))
        {
            throw new DocumentLoadException(path, Outside);
        }
    }

    private static string RealRoot(string root)
    {
        string full = Path.GetFullPath(root.Trim());
        return RealPath.TryResolve(full, out string? real) ? real : Path.TrimEndingDirectorySeparator(full);
    }

    private static bool IsUnder(string real, string root)
    {
        string trimmed = Path.TrimEndingDirectorySeparator(root);
        if (string.Equals(real, trimmed, s_comparison))
        {
            return true;
        }

        return real.StartsWith(Path.EndsInDirectorySeparator(trimmed) ? trimmed : trimmed + Path.DirectorySeparatorChar, s_comparison);
    }
}
