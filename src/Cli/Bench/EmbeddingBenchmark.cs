using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using Microsoft.Extensions.AI;
using T5Gemma2.Rag.Cli.Console;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Encoder.Onnx;

namespace T5Gemma2.Rag.Cli.Bench;

/// <summary>
/// Embedding throughput three ways in one run, on the same passages and session settings: our token-budget batching
/// after sorting by length (and, for reference, the same with text-embeddings-inference's budget); one input per ONNX Runtime run (what Semantic Kernel's ONNX connector does); and fixed
/// batches of 32 in input order.
/// </summary>
internal static class EmbeddingBenchmark
{
    private sealed record Strategy(string Name, OnnxEmbeddingGeneratorOptions Options);

    public static async Task<int> RunAsync(CliConsole console, string modelPath, string[] corpus, int passageCount, int seed, int? batchTokens, OnnxSessionOptions session, CancellationToken cancellationToken)
    {
        await BenchEnvironment.WriteAsync(console, $"{session.IntraOpThreads} (ONNX Runtime intra-op, every strategy)");
        var all = await console.RunWithStatusAsync("reading corpus", () => Task.FromResult(BenchCorpus.ReadDistinct(corpus)));
        if (all.Count < passageCount)
        {
            await console.Error.WriteLineAsync($"t5rag bench embed: the corpus has {all.Count} distinct passages; expected at least {passageCount}.");
            return ExitCodes.UsageError;
        }

        // A seeded shuffle mixes the corpora, so lengths are mixed and the sample is the same on every run.
        var random = new Random(seed);
        string[] passages = [.. all.OrderBy(_ => random.Next()).Take(passageCount)];

        Strategy[] strategies =
        [
            new("token budget, sorted (ours)", new OnnxEmbeddingGeneratorOptions { MaxBatchTokens = batchTokens, Session = session }),
            new("token budget 16,384 (TEI's default), sorted", new OnnxEmbeddingGeneratorOptions { MaxBatchTokens = 16_384, Session = session }),
            new("one input per run", new OnnxEmbeddingGeneratorOptions { MaxBatchSize = 1, Session = session }),
            new("fixed 32, unsorted", new OnnxEmbeddingGeneratorOptions { MaxBatchSize = 32, SortByLength = false, MaxBatchTokens = int.MaxValue, Session = session }),
        ];

        var results = new List<(string Name, long Tokens, double Seconds, GeneratedEmbeddings<Embedding<float>> Embeddings)>();
        foreach (var strategy in strategies)
        {
            using var generator = OnnxEmbeddingGenerator.Create(modelPath, strategy.Options, console.LoggerFactory);
            await generator.GenerateAsync(passages.Take(16), cancellationToken: cancellationToken); // warm-up, untimed
            var (embeddings, seconds) = await console.RunWithStatusAsync($"embedding {passages.Length:N0} passages: {strategy.Name}", async () =>
            {
                var timer = Stopwatch.StartNew();
                var result = await generator.GenerateAsync(passages, cancellationToken: cancellationToken);
                return (result, timer.Elapsed.TotalSeconds);
            });
            results.Add((strategy.Name, embeddings.Usage?.InputTokenCount ?? 0, seconds, embeddings));
        }

        // The three must agree on the vectors, or the comparison is meaningless.
        float worst = 1f;
        for (int i = 0; i < passages.Length; i++)
        {
            foreach (var other in results.Skip(1))
            {
                worst = Math.Min(worst, TensorPrimitives.CosineSimilarity(results[0].Embeddings[i].Vector.Span, other.Embeddings[i].Vector.Span));
            }
        }

        var culture = CultureInfo.InvariantCulture;
        double ours = results[0].Tokens / results[0].Seconds;
        console.WriteTable(
            $"embedding benchmark: {passages.Length:N0} passages, {results[0].Tokens:N0} tokens, model {Path.GetFileName(Path.GetFullPath(modelPath))}",
            ["strategy", "tokens/s", "passages/s", "seconds", "ours ÷ this"],
            results.Select(r => new[]
            {
                r.Name,
                (r.Tokens / r.Seconds).ToString("N0", culture),
                (passages.Length / r.Seconds).ToString("N1", culture),
                r.Seconds.ToString("F2", culture),
                (ours / (r.Tokens / r.Seconds)).ToString("F2", culture) + "x",
            }));
        await console.Out.WriteLineAsync(string.Create(culture, $"lowest cosine between strategies' vectors: {worst:F6}"));
        return ExitCodes.Success;
    }
}
