using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using Microsoft.ML.OnnxRuntime;
using T5Gemma2.Rag.Cli.Console;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Onnx;

namespace T5Gemma2.Rag.Cli.Bench;

/// <summary>
/// Throughput of converted T5Gemma 2 encoders at several batch × length shapes, each beside the machine's GEMM limit
/// measured in the same run (an ONNX Runtime MatMul of the model's own MLP shape), the long-context ratio, and, for
/// quantized models, how close their pooled embeddings stay to the first model's.
/// </summary>
internal static class EncoderBenchmark
{
    public static async Task<int> RunAsync(CliConsole console, string[] models, (int Batch, int Length)[] shapes, string[] corpus, OnnxSessionOptions session, CancellationToken cancellationToken)
    {
        var culture = CultureInfo.InvariantCulture;
        await BenchEnvironment.WriteAsync(console, BenchEnvironment.IntraOp(session.IntraOpThreads));
        var first = T5Gemma2Config.Read(Path.Combine(models[0], "config.json")).Encoder;
        double peak = await console.RunWithStatusAsync("measuring the GEMM limit (ONNX Runtime MatMuls of the model's layer shapes)", () => Task.FromResult(ComputeLimits.MeasureGemm(first, session)));
        await console.Out.WriteLineAsync(string.Create(culture, $"GEMM limit: {peak / 1e9:F1} GFLOP/s (best fp32 MatMul of [4096 × in] · [in × out] over the model's MLP and q/k/v shapes, {session.IntraOpThreads} threads)"));

        var rows = new List<string[]>();
        var throughput = new Dictionary<(string Model, int Batch, int Length), double>();
        foreach (string model in models)
        {
            var config = T5Gemma2Config.Read(Path.Combine(model, "config.json")).Encoder;
            string graph = ModelDirectory.Open(model).EncoderGraphPath;
            using var encoder = OnnxSessionFactory.Create(graph, session);
            // Models are told apart by the path given; two folders of one name in different places stay distinct.
            string name = model.TrimEnd(Path.DirectorySeparatorChar);
            Run(encoder, config, 1, 64); // warm-up, untimed

            foreach (var (batch, length) in shapes)
            {
                cancellationToken.ThrowIfCancellationRequested();
                double seconds = await console.RunWithStatusAsync($"{name}: {batch} × {length}", () => Task.FromResult(Run(encoder, config, batch, length)));
                double tokensPerSecond = batch * length / seconds;
                throughput[(name, batch, length)] = tokensPerSecond;
                double utilization = ComputeLimits.EncoderFlopsPerToken(config, length) * tokensPerSecond / peak;
                rows.Add([name, $"{batch} × {length}", tokensPerSecond.ToString("N0", culture), seconds.ToString("F2", culture), utilization.ToString("F2", culture)]);
            }
        }

        console.WriteTable("encoder throughput (tokens/s; GEMM ratio = model FLOPs/token × tokens/s ÷ GEMM limit)", ["model", "batch × length", "tokens/s", "seconds", "GEMM ratio"], rows);

        string baseline = models[0].TrimEnd(Path.DirectorySeparatorChar);
        foreach (var ((model, batch, length), value) in throughput.Where(t => t.Key.Model != baseline))
        {
            await console.Out.WriteLineAsync(string.Create(culture, $"{model} ÷ {baseline} at {batch} × {length}: {value / throughput[(baseline, batch, length)]:F2}x"));
        }

        foreach (string model in throughput.Keys.Select(k => k.Model).Distinct())
        {
            var longest = shapes.MaxBy(s => s.Length);
            var shorter = shapes.Where(s => s.Length < longest.Length).ToList();
            if (shorter.Count > 0)
            {
                var shortest = shorter.MinBy(s => s.Length);
                await console.Out.WriteLineAsync(string.Create(culture, $"{model}: tokens/s at {longest.Batch} × {longest.Length} ÷ at {shortest.Batch} × {shortest.Length} = {throughput[(model, longest.Batch, longest.Length)] / throughput[(model, shortest.Batch, shortest.Length)]:F2} (target ≥ 0.5)"));
            }
        }

        if (models.Length > 1 && corpus.Length > 0)
        {
            await CompareEmbeddingsAsync(console, models, corpus, session, cancellationToken);
        }

        return ExitCodes.Success;
    }

    /// <summary>Mean cosine of each model's pooled embeddings to the first model's, over 64 real passages.</summary>
    private static async Task CompareEmbeddingsAsync(CliConsole console, string[] models, string[] corpus, OnnxSessionOptions session, CancellationToken cancellationToken)
    {
        var random = new Random(7);
        string[] passages = [.. BenchCorpus.ReadDistinct(corpus).OrderBy(_ => random.Next()).Take(64)];
        var vectors = new List<float[][]>();
        foreach (string model in models)
        {
            using var generator = OnnxEmbeddingGenerator.Create(model, new OnnxEmbeddingGeneratorOptions { MaxLength = 512, Session = session }, console.LoggerFactory);
            var embeddings = await generator.GenerateAsync(passages, cancellationToken: cancellationToken);
            vectors.Add([.. embeddings.Select(e => e.Vector.ToArray())]);
        }

        for (int m = 1; m < models.Length; m++)
        {
            double mean = Enumerable.Range(0, passages.Length).Average(i => TensorPrimitives.CosineSimilarity(vectors[0][i], vectors[m][i]));
            await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"pooled embeddings, {Path.GetFileName(models[m].TrimEnd('/'))} vs {Path.GetFileName(models[0].TrimEnd('/'))}: mean cosine {mean:F4} over {passages.Length} passages"));
        }
    }

    private static double Run(InferenceSession session, T5Gemma2StackConfig config, int batch, int length)
    {
        var random = new Random(batch * 100_003 + length);
        long[] ids = [.. Enumerable.Range(0, batch * length).Select(i => i % length == 0 ? 2L : random.Next(3, config.VocabSize - 8000))];
        long[] mask = [.. ids.Select(_ => 1L)];
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, [batch, length]);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, [batch, length]);
        using var image = OrtValue.CreateTensorValueFromMemory(Array.Empty<float>(), [0, config.HiddenSize]);
        using var options = new RunOptions();
        // A Gemma 3 encoder (EmbeddingGemma) has no image input: feed what the graph declares.
        bool takesImages = session.InputMetadata.ContainsKey(EncoderGraphNames.ImageFeatures);
        string[] names = takesImages ? [EncoderGraphNames.InputIds, EncoderGraphNames.AttentionMask, EncoderGraphNames.ImageFeatures] : [EncoderGraphNames.InputIds, EncoderGraphNames.AttentionMask];
        OrtValue[] values = takesImages ? [idsValue, maskValue, image] : [idsValue, maskValue];
        var stopwatch = Stopwatch.StartNew();
        using var outputs = session.Run(options, names, values, [EncoderGraphNames.LastHiddenState]);
        return stopwatch.Elapsed.TotalSeconds;
    }
}
