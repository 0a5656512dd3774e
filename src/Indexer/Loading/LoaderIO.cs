using T5Gemma2.Rag.Indexer.Documents;

namespace T5Gemma2.Rag.Indexer.Loading;

/// <summary>
/// File access shared by the loaders: I/O failures become <see cref="DocumentLoadException"/>s with a one-line reason, so
/// the pipeline reports one bad file and goes on instead of stopping on an exception it cannot tell from a bug.
/// </summary>
internal static class LoaderIO
{
    /// <summary>The whole file, read from one handle that is checked against <see cref="DocumentFile.Roots"/> first.</summary>
    public static async Task<byte[]> ReadAllBytesAsync(DocumentFile file, CancellationToken cancellationToken)
    {
        using var stream = OpenRead(file);
        try
        {
            // Files whose size the system does not report (under /proc, pipes) are read to their end instead.
            if (stream.CanSeek && stream.Length > 0)
            {
                var bytes = new byte[stream.Length];
                await stream.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
                return bytes;
            }

            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            return buffer.ToArray();
        }
        catch (Exception ex) when (IsFileProblem(ex))
        {
            throw Unreadable(file.Source, ex);
        }
    }

    /// <summary>Opens the file for reading; with <see cref="DocumentFile.Roots"/>, refuses it unless the opened file really lies inside them.</summary>
    public static FileStream OpenRead(DocumentFile file)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(file.FullPath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, useAsync: true);
        }
        catch (Exception ex) when (IsFileProblem(ex))
        {
            throw Unreadable(file.Source, ex);
        }

        try
        {
            file.Roots?.CheckOpened(stream.SafeFileHandle, file.FullPath);
            return stream;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Whether <paramref name="ex"/> is the file system refusing a read (not a bug in the caller).</summary>
    public static bool IsFileProblem(Exception ex) => ex is IOException or UnauthorizedAccessException or System.Security.SecurityException;

    /// <summary>The reason for a failed read: "not found", "permission denied", or the first line of the system's message.</summary>
    public static DocumentLoadException Unreadable(string path, Exception ex) => new(path, ex switch
    {
        FileNotFoundException or DirectoryNotFoundException => "not found",
        UnauthorizedAccessException or System.Security.SecurityException => "permission denied",
        _ => $"cannot be read ({FirstLine(ex.Message)})",
    }, ex);

    /// <summary>A third-party parser's failure as a one-line reason: what the file should have been, and what the parser said.</summary>
    public static DocumentLoadException Invalid(string path, string expected, Exception ex) =>
        new(path, $"{expected} ({ex.GetType().Name}: {FirstLine(ex.Message)})", ex);

    /// <summary>The first line of <paramref name="message"/>, trimmed, at most 200 characters.</summary>
    public static string FirstLine(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        int end = message.AsSpan().IndexOfAny('\r', '\n');
        string line = (end >= 0 ? message[..end] : message).Trim();
        return line.Length <= 200 ? line : line[..200] + "…";
    }
}
