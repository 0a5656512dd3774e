using System.Diagnostics;
using System.Globalization;
using T5Gemma2.Rag.Cli.Console;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Encoder.Onnx;
using T5Gemma2.Rag.Indexer.Pipeline;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Indexer.Stores.Embedded;

namespace T5Gemma2.Rag.Cli.Bench;

/// <summary>
/// Indexing end to end (chunk, embed, write to the embedded store) beside the raw embedding throughput of the same
/// model on the same texts in the same process, so the pipeline's overhead is a ratio; and the process's memory as
/// the run goes, which must stay flat however many passages pass through.
/// </summary>
internal static class IndexBenchmark
{
    public static async Task<int> RunAsync(CliConsole console, string modelPath, string[] corpus, int passageCount, int rounds, bool raw, OnnxSessionOptions session, CancellationToken cancellationToken)
    {
        await BenchEnvironment.WriteAsync(console, $"{session.IntraOpThreads} (ONNX Runtime intra-op, both paths; the pipeline's loading and writing run beside it)");
        var distinct = await console.RunWithStatusAsync("reading corpus", () => Task.FromResult(BenchCorpus.ReadDistinct(corpus)));
        if (distinct.Count == 0)
        {
            await console.Error.WriteLineAsync("t5rag bench index: the corpus has no passages.");
            return ExitCodes.UsageError;
        }

        // Past the corpus's size, passages repeat with a numbered suffix: still distinct, so all are embedded.
        string[] texts = BenchCorpus.Repeat(distinct, passageCount);
        using var generator = OnnxEmbeddingGenerator.Create(modelPath, new OnnxEmbeddingGeneratorOptions { Session = session }, console.LoggerFactory);
        await generator.GenerateAsync(texts.Take(16), cancellationToken: cancellationToken); // warm-up, untimed
        double bestRaw = double.MaxValue, bestPipeline = double.MaxValue;
        long tokens = 0;
        var memory = new List<(long Passages, double MiB)>();
        for (int round = 0; round < rounds; round++)
        {
            if (raw)
            {
                bestRaw = Math.Min(bestRaw, await console.RunWithStatusAsync($"round {round + 1}: raw embedding of {texts.Length:N0} passages", async () =>
                {
                    var timer = Stopwatch.StartNew();
                    foreach (var slice in texts.Chunk(256))
                    {
                        await generator.GenerateAsync(slice, cancellationToken: cancellationToken);
                    }

                    return timer.Elapsed.TotalSeconds;
                }));
            }

            string store = Path.Combine(Path.GetTempPath(), "t5rag-bench-index-" + Guid.NewGuid().ToString("N")[..12]);
            try
            {
                using var passages = EmbeddedPassageStore.Open(store);
                var collection = await passages.OpenOrCreateCollectionAsync("bench", generator.CollectionSettings(), cancellationToken);
                var pipeline = IngestPipeline.Create(generator, collection, new IngestOptions { ChunkDocuments = false }, console.LoggerFactory);
                memory.Clear();
                long nextSample = 0;
                var progress = new Progress<IngestProgress>(p =>
                {
                    if (p.PassagesEmbedded >= nextSample)
                    {
                        memory.Add((p.PassagesEmbedded, Environment.WorkingSet / 1048576.0));
                        nextSample = p.PassagesEmbedded + Math.Max(texts.Length / 10, 1);
                    }
                });
                var summary = await console.RunWithStatusAsync($"round {round + 1}: indexing {texts.Length:N0} passages", () =>
                    pipeline.IndexDocumentsAsync(BenchCorpus.AsDocuments(texts, cancellationToken), progress, cancellationToken));
                bestPipeline = Math.Min(bestPipeline, summary.Elapsed.TotalSeconds);
                tokens = summary.TokensEmbedded;
                if (summary.PassagesNew != texts.Length)
                {
                    await console.Error.WriteLineAsync($"t5rag bench index: {summary.PassagesNew} of {texts.Length} passages were indexed; failures: {string.Join("; ", summary.Failures.Take(3))}");
                    return ExitCodes.InternalError;
                }
            }
            finally
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                Directory.Delete(store, recursive: true);
            }
        }

        string F(double v, string format = "N0") => v.ToString(format, CultureInfo.InvariantCulture);
        var rows = new List<string[]>
        {
            new[] { "pipeline (chunk → embed → write)", F(tokens / bestPipeline), F(texts.Length / bestPipeline, "N1"), F(bestPipeline, "F2") },
        };
        if (raw)
        {
            rows.Add([$"raw embedding, same texts", F(tokens / bestRaw), F(texts.Length / bestRaw, "N1"), F(bestRaw, "F2")]);
        }

        console.WriteTable($"indexing benchmark: {texts.Length:N0} passages, {tokens:N0} tokens, model {generator.Model.ModelId}, best of {rounds}", ["path", "tokens/s", "passages/s", "seconds"], rows);
        if (raw)
        {
            await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"pipeline ÷ raw throughput: {bestRaw / bestPipeline:F3} (overhead {(bestPipeline / bestRaw) - 1:P1}; target ≤ 10%)"));
        }

        await console.Out.WriteLineAsync("working set while indexing (passages embedded → MiB): " + string.Join(", ", memory.Select(m => $"{m.Passages:N0} → {m.MiB:N0}")));
        await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"peak working set of the process: {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:N0} MiB"));
        return ExitCodes.Success;
    }
}
