using System.CommandLine;
using System.Globalization;
using T5Gemma2.Rag.Cli.Console;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Indexer.Chunking;
using T5Gemma2.Rag.Indexer.Loading;
using T5Gemma2.Rag.Indexer.Pipeline;
using T5Gemma2.Rag.Indexer.Stores;

namespace T5Gemma2.Rag.Cli.Commands;

/// <summary><c>t5rag index</c>: loads, chunks, embeds and stores files; unchanged files are skipped, and the summary says what happened.</summary>
internal static class IndexCommand
{
    public static Command Create(CliConsole console)
    {
        var shared = new CollectionOptions();
        var paths = new Argument<string[]>("paths") { Description = "Files and directories to index", Arity = ArgumentArity.OneOrMore };
        var chunkTokens = new Option<int?>("--chunk-tokens") { Description = "Most tokens per passage (default: the model's input less 24 for headings, at most 512)" };
        var overlap = new Option<int?>("--overlap") { Description = "Tokens a passage repeats from the one before (default: an eighth of --chunk-tokens)" };
        var tags = new Option<string[]>("--tags") { Description = "Tags for every passage, key=value", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [] };
        var prune = new Option<bool>("--prune") { Description = "Remove the passages of files under the given paths that are gone" };
        var include = new Option<string[]>("--include") { Description = "Only files matching these globs (relative to each directory; *, **, ?)", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [] };
        var exclude = new Option<string[]>("--exclude") { Description = "Leave out files or directories matching these globs", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [] };
        var hidden = new Option<bool>("--hidden") { Description = "Also index hidden files and directories" };
        var followLinks = new Option<bool>("--follow-links") { Description = "Follow symbolic links that lead out of the folders given (by default they are counted and left alone)" };
        var textField = new Option<string>("--text-field") { Description = "The field with the text in .json/.jsonl records", DefaultValueFactory = _ => "text" };
        var noChunk = new Option<bool>("--no-chunk") { Description = "One passage per document (cut at the model's input length)" };
        var embedBatch = new Option<int>("--embed-batch") { Description = "Passages per embedding call and per store transaction", DefaultValueFactory = _ => 256 };
        var json = new Option<bool>("--json") { Description = "Print the summary as JSON" };
        var shards = new Option<int?>("--shards") { Description = "Qdrant store: shards of a new collection (a cluster spreads them over its nodes; default 1)" };
        var replicas = new Option<int?>("--replicas") { Description = "Qdrant store: copies of each shard in a new collection (default 1)" };

        var command = new Command("index", "Index files into a collection (incremental: unchanged files are skipped)")
        {
            paths, chunkTokens, overlap, tags, prune, include, exclude, hidden, followLinks, textField, noChunk, embedBatch, json, shards, replicas,
        };
        shared.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = shared.Settings(parse, console.LoggerFactory);
            if (parse.GetValue(embedBatch) < 1)
            {
                throw new UsageException($"--embed-batch {parse.GetValue(embedBatch)}: expected at least 1.");
            }

            int? shardCount = parse.GetValue(shards), replicaCount = parse.GetValue(replicas);
            if (shardCount is < 1 || replicaCount is < 1)
            {
                throw new UsageException($"--shards {shardCount} --replicas {replicaCount}: expected at least 1.");
            }

            if ((shardCount ?? replicaCount) is not null && !PassageStores.IsServer(shared.StorePath(parse, settings)))
            {
                throw new UsageException("--shards and --replicas lay out a Qdrant collection; give a Qdrant store (--store qdrant://host:6334).");
            }

            using var store = shared.OpenStore(parse, settings, console.LoggerFactory, o => o with { Shards = shardCount ?? o.Shards, Replicas = replicaCount ?? o.Replicas });
            string name = shared.CollectionName(parse, settings);

            // Opening only (no create): adding to a collection takes its recorded length unless one is given.
            var existing = await store.OpenCollectionAsync(name, cancellationToken);
            string modelPath = shared.ModelPath(parse, settings);
            using var generator = OnnxEmbeddingGenerator.Create(modelPath, shared.Embedding(parse, settings, existing?.Settings, modelPath), console.LoggerFactory);
            var options = new IngestOptions
            {
                Chunking = Chunking(parse.GetValue(chunkTokens) ?? settings.ChunkTokens, parse.GetValue(overlap) ?? settings.OverlapTokens, generator.MaxLength),
                ChunkDocuments = !parse.GetValue(noChunk),
                Tags = ParseTags(parse.GetValue(tags)!),
                Prune = parse.GetValue(prune),
                Walk = new DirectoryWalkOptions { Include = parse.GetValue(include)!, Exclude = parse.GetValue(exclude)!, IncludeHidden = parse.GetValue(hidden), FollowLinksOutside = parse.GetValue(followLinks) },
                JsonRecords = new JsonRecordLoaderOptions { TextField = parse.GetValue(textField)! },
                EmbeddingBatchPassages = parse.GetValue(embedBatch),
            };

            var collection = await store.OpenOrCreateCollectionAsync(name, generator.CollectionSettings(), cancellationToken);
            var pipeline = IngestPipeline.Create(generator, collection, options, console.LoggerFactory);

            // Each store prepares for a run of writes its way (BeginBulkWriteAsync: the embedded store loads a large
            // collection's HNSW graph, Qdrant defers indexing of an empty collection to the end or repairs indexing a
            // killed run left off); the session ends after the run, or on the way out if the run fails.
            await using var bulkWrite = await collection.BeginBulkWriteAsync(
                (description, step) => console.RunWithStatusAsync(description, async () =>
                {
                    await step();
                    return true;
                }),
                cancellationToken);
            if (bulkWrite.Notice is { } notice)
            {
                await console.Error.WriteLineAsync($"t5rag: {notice}");
            }

            var summary = await console.RunWithProgressAsync($"indexing into '{name}'", progress =>
                pipeline.IndexFilesAsync(parse.GetValue(paths)!, new Progress<IngestProgress>(p => progress.Report((p.FilesRead, p.FilesTotal, Detail(p)))), cancellationToken));
            await bulkWrite.EndAsync(cancellationToken);

            string where = store.Location;
            if (parse.GetValue(json))
            {
                await console.Out.WriteLineAsync(CliJson.Serialize(SummaryJson(summary, name, where, pipeline.Chunking)));
            }
            else
            {
                await WriteSummaryAsync(console, summary, name, where, pipeline.Chunking);
            }

            return summary.Succeeded ? ExitCodes.Success : ExitCodes.PartialFailure;
        });
        return command;
    }

    /// <summary>The chunk options the command line and settings ask for; null leaves the model's defaults.</summary>
    internal static ChunkingOptions? Chunking(int? maxTokens, int? overlapTokens, int modelMaxLength)
    {
        if (maxTokens is null && overlapTokens is null)
        {
            return null;
        }

        int max = maxTokens ?? ChunkingOptions.ForModel(modelMaxLength - IngestOptions.HeadingReserveTokens).MaxTokens;
        if (max > modelMaxLength - 2)
        {
            throw new UsageException($"--chunk-tokens {max} is more than the model reads ({modelMaxLength} tokens with its 2 special tokens); expected at most {modelMaxLength - 2}.");
        }

        try
        {
            return new ChunkingOptions { MaxTokens = max, OverlapTokens = overlapTokens ?? max / 8 };
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw new UsageException($"--chunk-tokens/--overlap: {ex.Message.Split(" (Parameter")[0]}");
        }
    }

    internal static Dictionary<string, string> ParseTags(IEnumerable<string> values)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string value in values)
        {
            int equals = value.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new UsageException($"tag \"{value}\": expected key=value.");
            }

            tags[value[..equals]] = value[(equals + 1)..];
        }

        return tags;
    }

    private static string Detail(IngestProgress p)
    {
        double seconds = Math.Max(p.Elapsed.TotalSeconds, 1e-3);
        return string.Create(CultureInfo.InvariantCulture, $"{p.PassagesEmbedded:N0} passages{(p.ImagesEmbedded > 0 ? $" ({p.ImagesEmbedded:N0} images)" : "")}, {p.TokensEmbedded / seconds:N0} tokens/s");
    }

    private static async Task WriteSummaryAsync(CliConsole console, IngestSummary s, string name, string store, ChunkingOptions chunking)
    {
        var output = console.Out;
        double seconds = Math.Max(s.Elapsed.TotalSeconds, 1e-3);
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"read {s.FilesRead:N0} of {s.FilesFound:N0} files into collection '{name}' ({store}) in {seconds:F1} s; passages of at most {chunking.MaxTokens} tokens, overlap {chunking.OverlapTokens}"));
        await output.WriteLineAsync($"documents: {s.DocumentsNew:N0} new, {s.DocumentsChanged:N0} changed, {s.DocumentsUnchanged:N0} unchanged, {s.DocumentsPruned:N0} pruned, {s.DocumentsEmpty:N0} without text");
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"passages: {s.PassagesNew:N0} new, {s.PassagesReused:N0} reused, {s.PassagesUnchanged:N0} unchanged, {s.PassagesRemoved:N0} removed; {s.TokensEmbedded:N0} tokens embedded ({s.TokensEmbedded / seconds:N0} tokens/s)"));
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"time: load {s.LoadTime.TotalSeconds:F1} s, chunk {s.ChunkTime.TotalSeconds:F1} s, embed {s.EmbedTime.TotalSeconds:F1} s, write {s.WriteTime.TotalSeconds:F1} s"));
        if (s.ImagePassagesNew > 0 || s.ImagesSkipped > 0 || s.ImagesNotEmbedded > 0)
        {
            await output.WriteLineAsync($"images: {s.ImagePassagesNew:N0} image passages new, {s.ImagesSkipped:N0} too small (under 32 px a side) skipped, {s.ImagesNotEmbedded:N0} left out (the model takes no images)");
        }

        if (s.UnsupportedFiles > 0)
        {
            await output.WriteLineAsync($"skipped: {s.UnsupportedFiles:N0} files of unsupported types");
        }

        if (s.LinksNotFollowed > 0)
        {
            await output.WriteLineAsync($"not followed: {s.LinksNotFollowed:N0} symbolic links out of the folders given (--follow-links follows them)");
        }

        if (s.ReplacedCharacters > 0)
        {
            await output.WriteLineAsync($"replaced: {s.ReplacedCharacters:N0} invalid bytes or characters by U+FFFD");
        }

        if (s.SkippedRecords.Count > 0)
        {
            await output.WriteLineAsync($"skipped records: {s.SkippedRecords.Count:N0}");
            foreach (string record in s.SkippedRecords.Take(20))
            {
                await console.Error.WriteLineAsync($"  {record}");
            }
        }

        if (s.Failures.Count > 0)
        {
            await output.WriteLineAsync($"failed: {s.Failures.Count:N0}");
            foreach (var (path, reason) in s.Failures)
            {
                await console.Error.WriteLineAsync($"  {path}: {reason}");
            }
        }
    }

    private static object SummaryJson(IngestSummary s, string name, string store, ChunkingOptions chunking) => new
    {
        collection = name,
        store,
        chunk_tokens = chunking.MaxTokens,
        overlap_tokens = chunking.OverlapTokens,
        files_found = s.FilesFound,
        files_read = s.FilesRead,
        unsupported_files = s.UnsupportedFiles,
        links_not_followed = s.LinksNotFollowed,
        documents_new = s.DocumentsNew,
        documents_changed = s.DocumentsChanged,
        documents_unchanged = s.DocumentsUnchanged,
        documents_pruned = s.DocumentsPruned,
        documents_empty = s.DocumentsEmpty,
        passages_new = s.PassagesNew,
        passages_reused = s.PassagesReused,
        passages_unchanged = s.PassagesUnchanged,
        passages_removed = s.PassagesRemoved,
        image_passages_new = s.ImagePassagesNew,
        images_skipped = s.ImagesSkipped,
        images_not_embedded = s.ImagesNotEmbedded,
        tokens_embedded = s.TokensEmbedded,
        replaced_characters = s.ReplacedCharacters,
        seconds = s.Elapsed.TotalSeconds,
        stage_seconds = new { load = s.LoadTime.TotalSeconds, chunk = s.ChunkTime.TotalSeconds, embed = s.EmbedTime.TotalSeconds, write = s.WriteTime.TotalSeconds },
        failures = s.Failures.Select(f => new { path = f.Path, reason = f.Reason }),
        skipped_records = s.SkippedRecords,
    };
}
