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
        int qkv = (c.NumAttentionHeads + 2 * c.NumKeyValueHeads) * c.HeadDim;
        return MeasureGemm([(c.HiddenSize, c.IntermediateSize), (c.IntermediateSize, c.HiddenSize), (c.HiddenSize, qkv)], session);
    }

    /// <summary>As for the text encoder, over the SigLIP tower's MLP and fused q/k/v shapes, with one image's patches as the rows.</summary>
    public static double MeasureGemm(VisionConfig c, OnnxSessionOptions session) =>
        MeasureGemm([(c.HiddenSize, c.IntermediateSize), (c.IntermediateSize, c.HiddenSize), (c.HiddenSize, 3 * c.HiddenSize)], session, rows: c.PatchesPerSide * c.PatchesPerSide);

    /// <summary>Multiply-adds ×2 per image: patch convolution, every tower layer's linears and attention, the projection.</summary>
    public static double VisionFlopsPerImage(VisionConfig c)
    {
        double patches = (double)c.PatchesPerSide * c.PatchesPerSide, h = c.HiddenSize, i = c.IntermediateSize;
        double convolution = 2 * patches * 3 * c.PatchSize * c.PatchSize * h;
        double layer = (2 * patches * ((4 * h * h) + (2 * h * i))) + (2 * 2 * patches * patches * h);
        double projection = 2.0 * c.TokensPerImage * h * c.TextHiddenSize;
        return convolution + (c.NumLayers * layer) + projection;
    }

    private static double MeasureGemm(IEnumerable<(int Inner, int Outer)> shapes, OnnxSessionOptions session, int rows = 4096)
    {
        double best = 0;
        foreach (var (inner, outer) in shapes)
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

    /// <summary>
    /// Bytes per second that ONNX Runtime's one-row kernels read from a weight of [<paramref name="outputs"/> ×
    /// <paramref name="inputs"/>]: a 4-bit block-quantized MatMulNBits with fp32 activations when <paramref name="bits"/> is
    /// 4, else an fp32 MatMul; what a one-token decoder step is bound by when it is below the memory bandwidth.
    /// </summary>
    public static double MeasureOneRowKernel(int inputs, int outputs, int bits, OnnxSessionOptions session)
    {
        var graph = new OnnxGraph("one_row_kernel");
        string x = graph.Input("x", OnnxDataType.Float, 1, inputs);
        var random = new Random(2);
        long bytes;
        string y;
        if (bits == 4)
        {
            const int block = 32;
            int blocks = inputs / block;
            var data = new byte[(long)outputs * blocks * (block / 2)];
            random.NextBytes(data);
            var zeroPoints = new byte[outputs * ((blocks + 1) / 2)];
            random.NextBytes(zeroPoints);
            float[] scales = [.. Enumerable.Range(0, outputs * blocks).Select(_ => (float)random.NextDouble() * 0.01f)];
            bytes = data.Length + (scales.Length * 4L) + zeroPoints.Length;
            y = graph.OpIn(
                OnnxGraph.MicrosoftDomain,
                "MatMulNBits",
                [x, graph.Initializer("w", OnnxTensor.Deferred(OnnxDataType.UInt8, [outputs, blocks, block / 2], data.Length, s => s.Write(data))), graph.Initializer("s", OnnxTensor.FromFloats(scales, scales.Length)), graph.Initializer("z", OnnxTensor.Deferred(OnnxDataType.UInt8, [zeroPoints.Length], zeroPoints.Length, s => s.Write(zeroPoints)))],
                OnnxAttribute.Int("K", inputs),
                OnnxAttribute.Int("N", outputs),
                OnnxAttribute.Int("bits", 4),
                OnnxAttribute.Int("block_size", block),
                OnnxAttribute.Int("accuracy_level", 1));
        }
        else
        {
            float[] weight = [.. Enumerable.Range(0, inputs * outputs).Select(_ => (float)random.NextDouble())];
            bytes = weight.Length * 4L;
            y = graph.Op("MatMul", [x, graph.Initializer("w", OnnxTensor.FromFloats(weight, inputs, outputs))]);
        }

        graph.Output(y, "y", OnnxDataType.Float, 1, outputs);
        float[] input = [.. Enumerable.Range(0, inputs).Select(_ => (float)random.NextDouble())];
        return bytes / BestRunSeconds(graph, session, input, [1, inputs], runs: 12, warmUp: 2);
    }

    /// <summary>Multiply-adds ×2 per encoder token: the linear layers, plus attention over the keys each query may see.</summary>
    public static double EncoderFlopsPerToken(T5Gemma2StackConfig c, int length)
    {
        double h = c.HiddenSize, q = (double)c.NumAttentionHeads * c.HeadDim, kv = (double)c.NumKeyValueHeads * c.HeadDim, i = c.IntermediateSize;
        double linear = 2 * (h * q + 2 * h * kv + q * h + 3 * h * i);
        double attention = 0;
        foreach (var type in c.LayerTypes)
        {
            // A sliding query sees itself and its reach on either side: 512 keys for T5Gemma 2's W = 512, 513 for
            // EmbeddingGemma's (W' = 257, 256 each way).
            var (left, right) = c.BidirectionalWindowReach;
            double keys = type == AttentionLayerType.Full ? length : Math.Min(length, left + right + 1);
            attention += 2 * 2 * q * keys; // scores and weighted values
        }

        return linear * c.NumLayers + attention;
    }

    private static double MeasureMatMul(int rows, int inner, int outer, OnnxSessionOptions session)
    {
        var graph = new OnnxGraph("gemm_limit");
        string a = graph.Input("x", OnnxDataType.Float, rows, inner);
        var random = new Random(1);
        string w = graph.Initializer("w", OnnxTensor.FromFloats([.. Enumerable.Range(0, inner * outer).Select(_ => (float)random.NextDouble())], inner, outer));
        graph.Output(graph.Op("MatMul", [a, w]), "y", OnnxDataType.Float, rows, outer);
        float[] input = [.. Enumerable.Range(0, rows * inner).Select(_ => (float)random.NextDouble())];
        return 2.0 * rows * inner * outer / BestRunSeconds(graph, session, input, [rows, inner], runs: 8, warmUp: 1);
    }

    /// <summary>The fastest of <paramref name="runs"/> runs (after <paramref name="warmUp"/> untimed ones) of a graph with input x and output y, in a session with <paramref name="session"/>'s settings.</summary>
    private static double BestRunSeconds(OnnxGraph graph, OnnxSessionOptions session, float[] input, long[] shape, int runs, int warmUp)
    {
        string path = Path.Combine(Path.GetTempPath(), $"t5rag-limit-{Environment.ProcessId}-{Guid.NewGuid():N}.onnx");
        graph.Save(path, externalDataThreshold: long.MaxValue);
        try
        {
            using var sessionRun = OnnxSessionFactory.Create(path, session);
            using var value = OrtValue.CreateTensorValueFromMemory(input, shape);
            using var options = new RunOptions();
            double best = double.MaxValue;
            for (int run = 0; run < warmUp + runs; run++)
            {
                var stopwatch = Stopwatch.StartNew();
                using var outputs = sessionRun.Run(options, ["x"], [value], ["y"]);
                if (run >= warmUp)
                {
                    best = Math.Min(best, stopwatch.Elapsed.TotalSeconds);
                }
            }

            return best;
        }
        finally
        {
            File.Delete(path);
        }
    }
}
