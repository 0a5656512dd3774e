using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using Microsoft.Extensions.AI;
using T5Gemma2.Rag.Cli.Console;
using T5Gemma2.Rag.Encoder.Embeddings;

namespace T5Gemma2.Rag.Cli.Bench;

/// <summary>
/// How much a converted model (int8, int4) moves retrieval against the first (fp32): every model embeds the same
/// passages and queries, each query takes its exact cosine top 10, and the figure is the mean share of the first
/// model's top 10 that the other model also returns, beside the mean cosine of their passage and query embeddings.
/// No relevance judgments are needed, so any query text counts; overlap is reported per query file too.
/// </summary>
internal static class RetrievalAgreementBenchmark
{
    private const int Top = 10;

    private sealed record Embedded(float[][] Passages, float[][] Queries, double Seconds);

    public static async Task<int> RunAsync(CliConsole console, string[] models, string[] corpus, string[] queryFiles, int passageCount, int queryCount, int maxLength, CancellationToken cancellationToken)
    {
        var culture = CultureInfo.InvariantCulture;
        if (models.Length < 2)
        {
            await console.Error.WriteLineAsync("t5rag bench agreement: one model given; expected the baseline first, then the models to compare with it.");
            return ExitCodes.UsageError;
        }

        string[] passages = [.. BenchCorpus.ReadDistinct(corpus).Take(passageCount)];
        var queries = new List<(string Text, string File)>();
        foreach (string file in queryFiles)
        {
            queries.AddRange(BenchCorpus.ReadQueries([file]).Take(queryCount - queries.Count).Select(q => (q, Path.GetFileName(file))));
        }

        if (passages.Length < Top || queries.Count == 0)
        {
            await console.Error.WriteLineAsync($"t5rag bench agreement: {passages.Length} passages and {queries.Count} queries; expected at least {Top} passages and one query.");
            return ExitCodes.UsageError;
        }

        await console.Out.WriteLineAsync(string.Create(culture, $"{passages.Length:N0} passages, {queries.Count} queries ({string.Join(", ", queries.CountBy(q => q.File).Select(g => $"{g.Value} from {g.Key}"))}), at most {maxLength} tokens each"));
        var embedded = new List<Embedded>();
        foreach (string model in models)
        {
            embedded.Add(await console.RunWithStatusAsync($"{model}: embedding", () => EmbedAsync(console, model, passages, [.. queries.Select(q => q.Text)], maxLength, cancellationToken)));
        }

        int[][] baseline = [.. embedded[0].Queries.Select(q => TopPassages(q, embedded[0].Passages))];
        string[] files = [.. queries.Select(q => q.File).Distinct()];
        var rows = new List<string[]>();
        for (int m = 0; m < models.Length; m++)
        {
            var e = embedded[m];
            double[] overlap = [.. e.Queries.Select((q, i) => TopPassages(q, e.Passages).Intersect(baseline[i]).Count() / (double)Top)];
            double PassageCosine() => Enumerable.Range(0, passages.Length).Average(i => TensorPrimitives.CosineSimilarity(embedded[0].Passages[i], e.Passages[i]));
            double QueryCosine() => Enumerable.Range(0, queries.Count).Average(i => TensorPrimitives.CosineSimilarity(embedded[0].Queries[i], e.Queries[i]));
            string ByFile() => string.Join("; ", files.Select(f => string.Create(culture, $"{f} {Enumerable.Range(0, queries.Count).Where(i => queries[i].File == f).Average(i => overlap[i]):F3}")));
            rows.Add([models[m], overlap.Average().ToString("F3", culture), files.Length > 1 ? ByFile() : "", PassageCosine().ToString("F4", culture), QueryCosine().ToString("F4", culture), e.Seconds.ToString("F0", culture)]);
        }

        console.WriteTable($"retrieval agreement with {models[0]}: mean |top{Top} ∩ baseline top{Top}| / {Top} over exact cosine search", ["model", $"top-{Top} overlap", "by query file", "passage cosine", "query cosine", "embed seconds"], rows);
        return ExitCodes.Success;
    }

    private static async Task<Embedded> EmbedAsync(CliConsole console, string model, string[] passages, string[] queries, int maxLength, CancellationToken cancellationToken)
    {
        using var generator = OnnxEmbeddingGenerator.Create(model, new OnnxEmbeddingGeneratorOptions { MaxLength = maxLength }, console.LoggerFactory);
        var timer = Stopwatch.StartNew();
        var passageVectors = await generator.GenerateAsync(passages, new EmbeddingGenerationOptions().WithInputKind(EmbeddingInputKind.Passage), cancellationToken);
        double seconds = timer.Elapsed.TotalSeconds;
        var queryVectors = await generator.GenerateAsync(queries, new EmbeddingGenerationOptions().WithInputKind(EmbeddingInputKind.Query), cancellationToken);
        return new Embedded([.. passageVectors.Select(v => v.Vector.ToArray())], [.. queryVectors.Select(v => v.Vector.ToArray())], seconds);
    }

    /// <summary>The indices of the <see cref="Top"/> passages of highest cosine to the query, by exact scan.</summary>
    private static int[] TopPassages(float[] query, float[][] passages) =>
        [.. Enumerable.Range(0, passages.Length).OrderByDescending(i => TensorPrimitives.CosineSimilarity(query, passages[i])).ThenBy(i => i).Take(Top)];
}
