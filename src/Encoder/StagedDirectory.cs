namespace T5Gemma2.Rag.Encoder;

/// <summary>
/// Writes a directory so that it appears only when complete: the work happens in a sibling "<c>name.partial-xxxx</c>"
/// directory that is moved into place at the end, or removed on failure or cancellation.
/// </summary>
internal static class StagedDirectory
{
    /// <summary>Runs <paramref name="write"/> on a staging directory, then moves it to <paramref name="target"/> (new or empty).</summary>
    /// <exception cref="ModelFileException">The target exists and is not empty.</exception>
    public static T Write<T>(string target, Func<string, T> write)
    {
        target = Path.GetFullPath(target).TrimEnd(Path.DirectorySeparatorChar);
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
        {
            throw new ModelFileException(target, "is not empty; expected a new or empty directory.");
        }

        string staging = target + ".partial-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(staging);
        try
        {
            T result = write(staging);
            if (Directory.Exists(target))
            {
                Directory.Delete(target);
            }

            Directory.Move(staging, target);
            return result;
        }
        catch
        {
            try
            {
                Directory.Delete(staging, recursive: true);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // The original failure matters more than a staging directory that could not be removed.
            }

            throw;
        }
    }
}
