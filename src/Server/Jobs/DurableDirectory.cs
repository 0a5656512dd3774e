using System.Runtime.InteropServices;

namespace T5Gemma2.Rag.Server.Jobs;

/// <summary>
/// Makes a directory's entries durable: a file flushed with <c>Flush(true)</c> has its bytes on disk, but on Linux
/// and macOS the name that finds it is in its directory, which needs its own fsync before a crash cannot lose it.
/// (Windows journals names with the file; nothing to do there.)
/// </summary>
internal static class DurableDirectory
{
    private const int ReadOnly = 0;

    /// <summary>Creates <paramref name="path"/> (and its parents) and syncs it and its parent, so the new folder survives a crash.</summary>
    public static void Create(string path)
    {
        string full = Path.GetFullPath(path);
        bool existed = Directory.Exists(full);
        Directory.CreateDirectory(full);
        if (!existed)
        {
            Sync(full);
            if (Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(full)) is { } parent)
            {
                Sync(parent);
            }
        }
    }

    /// <summary>Syncs the directory's entries to disk.</summary>
    /// <exception cref="IOException">The directory cannot be opened or synced.</exception>
    public static void Sync(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        int descriptor = Open(path, ReadOnly);
        if (descriptor < 0)
        {
            throw new IOException($"{path}: cannot open the folder to sync it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (Fsync(descriptor) != 0)
            {
                throw new IOException($"{path}: cannot sync the folder (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Close(descriptor);
        }
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int descriptor);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int descriptor);
}
