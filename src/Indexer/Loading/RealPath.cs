using System.Diagnostics.CodeAnalysis;
using Microsoft.Win32.SafeHandles;

namespace T5Gemma2.Rag.Indexer.Loading;

/// <summary>Real paths, as the file system resolves them: what a containment check must compare, not the path as written.</summary>
internal static class RealPath
{
    /// <summary>
    /// The path with every symbolic link along it resolved, as realpath(3) gives it; false for a chain of more than 40
    /// links (a loop).
    /// </summary>
    public static bool TryResolve(string fullPath, [NotNullWhen(true)] out string? real)
    {
        real = null;
        char[] separators = [Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar];
        string root = Path.GetPathRoot(fullPath) ?? string.Empty;
        var remaining = new Stack<string>(fullPath[root.Length..].Split(separators, StringSplitOptions.RemoveEmptyEntries).Reverse());
        string current = root;
        int links = 0;
        while (remaining.Count > 0)
        {
            string part = remaining.Pop();
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }

            string candidate = Path.Join(current, part);
            string? target;
            try
            {
                target = new FileInfo(candidate).LinkTarget;
            }
            catch (Exception ex) when (LoaderIO.IsFileProblem(ex))
            {
                target = null;
            }

            if (target is null)
            {
                current = candidate;
                continue;
            }

            if (++links > 40)
            {
                return false;
            }

            if (Path.IsPathRooted(target))
            {
                current = Path.GetPathRoot(target) ?? current;
                target = target[current.Length..];
            }

            foreach (string targetPart in target.Split(separators, StringSplitOptions.RemoveEmptyEntries).Reverse())
            {
                remaining.Push(targetPart);
            }
        }

        real = current;
        return true;
    }

    /// <summary>
    /// The real path of the file an open handle refers to, read from the kernel (/proc/self/fd on Linux), so a link
    /// swapped in after a path was checked cannot redirect the read; null where the system does not tell.
    /// </summary>
    public static string? OfOpenedFile(SafeFileHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            string link = $"/proc/self/fd/{handle.DangerousGetHandle()}";
            return new FileInfo(link).LinkTarget;
        }
        catch (Exception ex) when (LoaderIO.IsFileProblem(ex))
        {
            return null;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }
}
