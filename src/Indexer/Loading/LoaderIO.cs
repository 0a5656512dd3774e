using T5Gemma2.Rag.Indexer.Documents;

namespace T5Gemma2.Rag.Indexer.Loading;

/// <summary>
/// File access shared by the loaders: I/O failures become <see cref="DocumentLoadException"/>s with a one-line reason, so
/// the pipeline reports one bad file and goes on instead of stopping on an exception it cannot tell from a bug.
/// </summary>
internal static class LoaderIO
{
    public static async Task<byte[]> ReadAllBytesAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsFileProblem(ex))
        {
            throw Unreadable(path, ex);
        }
    }

    public static FileStream OpenRead(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, useAsync: true);
        }
        catch (Exception ex) when (IsFileProblem(ex))
        {
            throw Unreadable(path, ex);
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
