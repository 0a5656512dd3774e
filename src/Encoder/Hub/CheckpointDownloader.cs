namespace T5Gemma2.Rag.Encoder.Hub;

/// <summary>Downloads the files of a checkpoint that conversion needs: config.json, safetensors (and their index), tokenizer files.</summary>
public static class CheckpointDownloader
{
    private static readonly HashSet<string> s_wanted = new(StringComparer.Ordinal)
    {
        "config.json", "model.safetensors.index.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json",
    };

    /// <summary>
    /// Downloads <paramref name="repository"/> at <paramref name="revision"/> into <paramref name="directory"/>; files
    /// already there with the right content are kept, and interrupted ones resume.
    /// </summary>
    /// <param name="progress">Receives (file, bytes so far, file size or null).</param>
    /// <returns>The commit the revision resolved to.</returns>
    public static async Task<string> DownloadAsync(HuggingFaceHubClient client, string repository, string revision, string directory, IProgress<(string File, long Bytes, long? Size)>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var (commit, files) = await client.ListFilesAsync(repository, revision, cancellationToken).ConfigureAwait(false);
        var needed = files.Where(f => s_wanted.Contains(f.Path) || (f.Path.EndsWith(".safetensors", StringComparison.Ordinal) && !f.Path.Contains('/', StringComparison.Ordinal))).ToList();
        if (!needed.Any(f => f.Path == "config.json") || !needed.Any(f => f.Path.EndsWith(".safetensors", StringComparison.Ordinal)))
        {
            throw new HubException($"{repository}@{revision}: no config.json or *.safetensors in the repository; expected a transformers checkpoint.");
        }

        foreach (var file in needed)
        {
            var fileProgress = progress is null ? null : new ImmediateProgress<long>(bytes => progress.Report((file.Path, bytes, file.Size)));
            await client.DownloadAsync(repository, commit, file, Path.Combine(directory, file.Path), fileProgress, cancellationToken).ConfigureAwait(false);
        }

        return commit;
    }
}
