using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using Microsoft.ML.OnnxRuntime;
using T5Gemma2.Rag.Cli.Console;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Onnx.Graph;

namespace T5Gemma2.Rag.Cli.Bench;

/// <summary>
/// Throughput of converted T5Gemma 2 encoders at several batch × length shapes, each beside the machine's GEMM limit
/// measured in the same run (an ONNX Runtime MatMul of the model's own MLP shape), the long-context ratio, and, for
/// quantized models, how close their pooled embeddings stay to the first model's.
/// </summary>
internal static class EncoderBenchmark
{
    public static async Task<int> RunAsync(CliConsole console, string[] models, (int Batch, int Length)[] shapes, string[] corpus, CancellationToken cancellationToken)
    {
        var culture = CultureInfo.InvariantCulture;
        var first = T5Gemma2Config.Read(Path.Combine(models[0], "config.json")).Encoder;
        double peak = await console.RunWithStatusAsync("measuring the GEMM limit (ONNX Runtime MatMul of the MLP shape)", () => Task.FromResult(MeasureMatMulPeak(first.HiddenSize, first.IntermediateSize)));
        await console.Out.WriteLineAsync(string.Create(culture, $"GEMM limit: {peak / 1e9:F1} GFLOP/s (fp32 MatMul [4096 × {first.HiddenSize}] · [{first.HiddenSize} × {first.IntermediateSize}], best of 5)"));

        var rows = new List<string[]>();
        var throughput = new Dictionary<(string Model, int Batch, int Length), double>();
        foreach (string model in models)
        {
            var config = T5Gemma2Config.Read(Path.Combine(model, "config.json")).Encoder;
            string graph = ModelDirectory.Open(model).EncoderGraphPath;
            using var session = new InferenceSession(graph, new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL });
            // Models are told apart by the path given; two folders of one name in different places stay distinct.
            string name = model.TrimEnd(Path.DirectorySeparatorChar);
            Run(session, config, 1, 64); // warm-up, untimed

            foreach (var (batch, length) in shapes)
            {
                cancellationToken.ThrowIfCancellationRequested();
                double seconds = await console.RunWithStatusAsync($"{name}: {batch} × {length}", () => Task.FromResult(Run(session, config, batch, length)));
                double tokensPerSecond = batch * length / seconds;
                throughput[(name, batch, length)] = tokensPerSecond;
                double utilization = FlopsPerToken(config, length) * tokensPerSecond / peak;
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
            await CompareEmbeddingsAsync(console, models, corpus, cancellationToken);
        }

        return ExitCodes.Success;
    }

    /// <summary>Mean cosine of each model's pooled embeddings to the first model's, over 64 real passages.</summary>
    private static async Task CompareEmbeddingsAsync(CliConsole console, string[] models, string[] corpus, CancellationToken cancellationToken)
    {
        var random = new Random(7);
        string[] passages = [.. BenchCorpus.ReadDistinct(corpus).OrderBy(_ => random.Next()).Take(64)];
        var vectors = new List<float[][]>();
        foreach (string model in models)
        {
            using var generator = OnnxEmbeddingGenerator.Create(model, new OnnxEmbeddingGeneratorOptions { MaxLength = 512 });
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
        var stopwatch = Stopwatch.StartNew();
        using var outputs = session.Run(options, [EncoderGraphNames.InputIds, EncoderGraphNames.AttentionMask, EncoderGraphNames.ImageFeatures], [idsValue, maskValue, image], [EncoderGraphNames.LastHiddenState]);
        return stopwatch.Elapsed.TotalSeconds;
    }

    /// <summary>Multiply-adds ×2 per token: the linear layers, plus attention over the keys each query may see.</summary>
    private static double FlopsPerToken(T5Gemma2StackConfig c, int length)
    {
        double h = c.HiddenSize, q = (double)c.NumAttentionHeads * c.HeadDim, kv = (double)c.NumKeyValueHeads * c.HeadDim, i = c.IntermediateSize;
        double linear = 2 * (h * q + 2 * h * kv + q * h + 3 * h * i);
        double attention = 0;
        foreach (var type in c.LayerTypes)
        {
            double keys = type == AttentionLayerType.Full ? length : Math.Min(length, c.SlidingWindow);
            attention += 2 * 2 * q * keys; // scores and weighted values
        }

        return linear * c.NumLayers + attention;
    }

    /// <summary>FLOP/s of an fp32 ONNX Runtime MatMul of the model's MLP shape: what the encoder's GEMMs can reach here.</summary>
    private static double MeasureMatMulPeak(int hidden, int intermediate)
    {
        const int rows = 4096;
        var graph = new OnnxGraph("gemm_limit");
        string a = graph.Input("a", OnnxDataType.Float, rows, hidden);
        var random = new Random(1);
        string w = graph.Initializer("w", OnnxTensor.FromFloats([.. Enumerable.Range(0, hidden * intermediate).Select(_ => (float)random.NextDouble())], hidden, intermediate));
        graph.Output(graph.Op("MatMul", [a, w]), "y", OnnxDataType.Float, rows, intermediate);
        string path = Path.Combine(Path.GetTempPath(), $"t5rag-gemm-{Environment.ProcessId}.onnx");
        graph.Save(path);
        try
        {
            using var session = new InferenceSession(path);
            float[] input = [.. Enumerable.Range(0, rows * hidden).Select(_ => (float)random.NextDouble())];
            using var value = OrtValue.CreateTensorValueFromMemory(input, [rows, hidden]);
            using var options = new RunOptions();
            double best = double.MaxValue;
            for (int run = 0; run < 6; run++)
            {
                var stopwatch = Stopwatch.StartNew();
                using var outputs = session.Run(options, ["a"], [value], ["y"]);
                if (run > 0)
                {
                    best = Math.Min(best, stopwatch.Elapsed.TotalSeconds);
                }
            }

            return 2.0 * rows * hidden * intermediate / best;
        }
        finally
        {
            File.Delete(path);
        }
    }
}
