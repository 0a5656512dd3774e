using System.Text.Json;

namespace T5Gemma2.Rag.Encoder.Hub;

/// <summary>
/// Downloads the files of a checkpoint that conversion needs: config.json, safetensors (and their index), tokenizer
/// files, and, for a sentence-transformers repository, its module files: modules.json, config_sentence_transformers.json,
/// sentence_*_config.json, and each module folder's config.json and model.safetensors.
/// </summary>
public static class CheckpointDownloader
{
    private const string ModulesFile = "modules.json";
    private const string DenseWeightsFile = "model.safetensors";
    private const string PickleWeightsFile = "pytorch_model.bin";

    private static readonly HashSet<string> s_wanted = new(StringComparer.Ordinal)
    {
        "config.json", "model.safetensors.index.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json",
        ModulesFile, "config_sentence_transformers.json",
    };

    /// <summary>
    /// Downloads <paramref name="repository"/> at <paramref name="revision"/> into <paramref name="directory"/>; files
    /// already there with the right content are kept, and interrupted ones resume.
    /// </summary>
    /// <param name="progress">Receives (file, bytes so far, file size or null).</param>
    /// <returns>The commit the revision resolved to.</returns>
    /// <exception cref="HubException">The Hub cannot be reached, refuses access, or the repository is not a checkpoint.</exception>
    /// <exception cref="ModelFileException">modules.json is not valid, or a module's weights exist only as a pickle (before any weights are downloaded).</exception>
    public static async Task<string> DownloadAsync(HuggingFaceHubClient client, string repository, string revision, string directory, IProgress<(string File, long Bytes, long? Size)>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var (commit, files) = await client.ListFilesAsync(repository, revision, cancellationToken).ConfigureAwait(false);
        var root = files.Where(f => !f.Path.Contains('/', StringComparison.Ordinal)).ToList();
        var needed = root.Where(f => s_wanted.Contains(f.Path) || f.Path.EndsWith(".safetensors", StringComparison.Ordinal) || IsTransformerModuleConfig(f.Path)).ToList();
        if (!needed.Any(f => f.Path == "config.json") || !needed.Any(f => f.Path.EndsWith(".safetensors", StringComparison.Ordinal)))
        {
            throw new HubException($"{repository}@{revision}: no config.json or *.safetensors in the repository; expected a transformers checkpoint.");
        }

        // modules.json first: it names the module folders to fetch, and a pickle-only one is refused before the weights come.
        if (needed.FirstOrDefault(f => f.Path == ModulesFile) is { } modules)
        {
            await DownloadFileAsync(client, repository, commit, modules, directory, progress, cancellationToken).ConfigureAwait(false);
            needed.Remove(modules);
            foreach (string folder in ModuleFolders(Path.Combine(directory, ModulesFile)))
            {
                var inFolder = files.Where(f => f.Path.StartsWith(folder + "/", StringComparison.Ordinal) && !f.Path[(folder.Length + 1)..].Contains('/', StringComparison.Ordinal)).ToList();
                bool hasSafetensors = inFolder.Any(f => f.Path.EndsWith("/" + DenseWeightsFile, StringComparison.Ordinal));
                if (!hasSafetensors && inFolder.Any(f => f.Path.EndsWith("/" + PickleWeightsFile, StringComparison.Ordinal)))
                {
                    throw new ModelFileException($"{repository}/{folder}/{PickleWeightsFile}", $"holds the module's weights as a pickle, which is not read; expected {folder}/{DenseWeightsFile} in the repository.");
                }

                needed.AddRange(inFolder.Where(f => f.Path.EndsWith("/config.json", StringComparison.Ordinal) || f.Path.EndsWith("/" + DenseWeightsFile, StringComparison.Ordinal)));
            }
        }

        foreach (var file in needed)
        {
            await DownloadFileAsync(client, repository, commit, file, directory, progress, cancellationToken).ConfigureAwait(false);
        }

        return commit;
    }

    private static Task DownloadFileAsync(HuggingFaceHubClient client, string repository, string commit, HubFile file, string directory, IProgress<(string File, long Bytes, long? Size)>? progress, CancellationToken cancellationToken)
    {
        var fileProgress = progress is null ? null : new ImmediateProgress<long>(bytes => progress.Report((file.Path, bytes, file.Size)));
        return client.DownloadAsync(repository, commit, file, Path.Combine(directory, file.Path), fileProgress, cancellationToken);
    }

    // sentence_bert_config.json, or one of the other names sentence-transformers falls back to (sentence_roberta_config.json, …).
    private static bool IsTransformerModuleConfig(string path) =>
        path.StartsWith("sentence_", StringComparison.Ordinal) && path.EndsWith("_config.json", StringComparison.Ordinal);

    /// <summary>The non-empty module paths modules.json names; the model directory's reader checks the rest after download.</summary>
    private static List<string> ModuleFolders(string modulesPath)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(modulesPath));
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw new ModelFileException(modulesPath, "is not a JSON array; expected the sentence-transformers module list.");
            }

            return [.. document.RootElement.EnumerateArray()
                .Select(entry => entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("path", out var path) && path.ValueKind == JsonValueKind.String ? path.GetString()!.TrimEnd('/') : "")
                .Where(path => path.Length > 0)
                .Distinct(StringComparer.Ordinal)];
        }
        catch (JsonException ex)
        {
            throw new ModelFileException(modulesPath, $"is not valid JSON ({ex.Message.Split('\n')[0]}); expected the sentence-transformers module list.", ex);
        }
    }
}
