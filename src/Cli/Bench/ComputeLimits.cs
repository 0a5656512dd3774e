using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Onnx;
using T5Gemma2.Rag.Encoder.Onnx.Graph;

namespace T5Gemma2.Rag.Cli.Bench;

/// <summary>
/// The machine's limits that the model benchmarks are reported against, measured in the same run and with the same
/// threads as the sessions they bound: fp32 GEMM throughput (what an encoder can reach) and memory bandwidth (what a
/// one-token decoder step can reach); and the model FLOPs that turn a limit into a time.
/// </summary>
internal static class ComputeLimits
{
    /// <summary>
    /// FLOP/s of fp32 ONNX Runtime MatMuls of the model's own layer shapes (the MLP's up and down products and the
    /// fused q/k/v), the best of several runs of each; a session with <paramref name="session"/>'s threads.
    /// </summary>
    public static double MeasureGemm(T5Gemma2StackConfig c, OnnxSessionOptions session)
    {
        const int rows = 4096;
        int qkv = (c.NumAttentionHeads + 2 * c.NumKeyValueHeads) * c.HeadDim;
        double best = 0;
        foreach (var (inner, outer) in new[] { (c.HiddenSize, c.IntermediateSize), (c.IntermediateSize, c.HiddenSize), (c.HiddenSize, qkv) })
        {
            best = Math.Max(best, MeasureMatMul(rows, inner, outer, session));
        }

        return best;
    }

    /// <summary>
    /// Bytes per second of a 1 GiB copy (read + write) split over <paramref name="threads"/> threads, best of 5: what a
    /// decoder step's weight reads can reach with that many threads.
    /// </summary>
    public static double MeasureBandwidth(int threads)
    {
        // Every page written first: untouched pages map to the kernel's shared zero page and would read from cache.
        var source = new byte[1 << 30];
        var target = new byte[1 << 30];
        Array.Fill(source, (byte)0x5A);
        Array.Fill(target, (byte)0xA5);
        int chunk = source.Length / threads;
        var options = new ParallelOptions { MaxDegreeOfParallelism = threads };
        double best = double.MaxValue;
        for (int run = 0; run < 5; run++)
        {
            var stopwatch = Stopwatch.StartNew();
            Parallel.For(0, threads, options, t => source.AsSpan(t * chunk, t == threads - 1 ? source.Length - (t * chunk) : chunk).CopyTo(target.AsSpan(t * chunk)));
            best = Math.Min(best, stopwatch.Elapsed.TotalSeconds);
        }

        return 2.0 * source.Length / best;
    }

    /// <summary>Multiply-adds ×2 per encoder token: the linear layers, plus attention over the keys each query may see.</summary>
    public static double EncoderFlopsPerToken(T5Gemma2StackConfig c, int length)
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

    private static double MeasureMatMul(int rows, int inner, int outer, OnnxSessionOptions session)
    {
        var graph = new OnnxGraph("gemm_limit");
        string a = graph.Input("a", OnnxDataType.Float, rows, inner);
        var random = new Random(1);
        string w = graph.Initializer("w", OnnxTensor.FromFloats([.. Enumerable.Range(0, inner * outer).Select(_ => (float)random.NextDouble())], inner, outer));
        graph.Output(graph.Op("MatMul", [a, w]), "y", OnnxDataType.Float, rows, outer);
        string path = Path.Combine(Path.GetTempPath(), $"t5rag-gemm-{Environment.ProcessId}-{inner}x{outer}.onnx");
        graph.Save(path);
        try
        {
            using var sessionRun = OnnxSessionFactory.Create(path, session);
            float[] input = [.. Enumerable.Range(0, rows * inner).Select(_ => (float)random.NextDouble())];
            using var value = OrtValue.CreateTensorValueFromMemory(input, [rows, inner]);
            using var options = new RunOptions();
            double best = double.MaxValue;
            for (int run = 0; run < 8; run++)
            {
                var stopwatch = Stopwatch.StartNew();
                using var outputs = sessionRun.Run(options, ["a"], [value], ["y"]);
                if (run > 0)
                {
                    best = Math.Min(best, stopwatch.Elapsed.TotalSeconds);
                }
            }

            return 2.0 * rows * inner * outer / best;
        }
        finally
        {
            File.Delete(path);
        }
    }
}
