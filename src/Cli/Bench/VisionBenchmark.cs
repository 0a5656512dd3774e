using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using T5Gemma2.Rag.Cli.Console;
using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Encoder.Images;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Onnx;
using T5Gemma2.Rag.Encoder.Vision;

namespace T5Gemma2.Rag.Cli.Bench;

/// <summary>
/// The vision graph (SigLIP tower and projector) per converted model: images per second at the model's image size
/// beside the GEMM limit of the tower's own shapes measured in the same run with the same threads, the memory the
/// graph adds when it loads, and, for models with decoder graphs, the time to the first token with one image and a
/// long text beside the same text alone.
/// </summary>
internal static class VisionBenchmark
{
    public static async Task<int> RunAsync(CliConsole console, string[] models, int images, int textTokens, OnnxSessionOptions session, CancellationToken cancellationToken)
    {
        var culture = CultureInfo.InvariantCulture;
        await BenchEnvironment.WriteAsync(console, BenchEnvironment.IntraOp(session.IntraOpThreads));
        var vision = ModelDirectory.Open(models[0]).RequireVision();
        double limit = await console.RunWithStatusAsync("measuring the GEMM limit (ONNX Runtime MatMuls of the tower's layer shapes)", () => Task.FromResult(ComputeLimits.MeasureGemm(vision, session)));
        double flops = ComputeLimits.VisionFlopsPerImage(vision);
        await console.Out.WriteLineAsync(string.Create(culture, $"GEMM limit: {limit / 1e9:F1} GFLOP/s (best fp32 MatMul of [{vision.PatchesPerSide * vision.PatchesPerSide} patches × in] · [in × out] over the tower's MLP and q/k/v shapes, {session.IntraOpThreads} threads)"));
        await console.Out.WriteLineAsync(string.Create(culture, $"one {vision.ImageSize}-pixel image: {flops / 1e12:F2} TFLOP in the tower and projector ({vision.NumLayers} layers, {vision.PatchesPerSide * vision.PatchesPerSide} patches of {vision.HiddenSize})"));

        var rows = new List<string[]>();
        float[]? baseline = null;
        var random = new Random(5);
        var pixels = new PixelValues(vision.ImageSize, vision.ImageSize, [.. Enumerable.Range(0, 3 * vision.ImageSize * vision.ImageSize).Select(_ => (float)((random.NextDouble() * 2) - 1))]);
        foreach (string model in models)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string name = model.TrimEnd(Path.DirectorySeparatorChar);
            long before = ResidentBytes();
            using var encoder = VisionEncoder.Open(ModelDirectory.Open(model), session);
            long loaded = ResidentBytes() - before;
            encoder.Encode(pixels.Values, 1, cancellationToken); // warm-up, untimed
            var seconds = new List<double>();
            float[] features = [];
            for (int i = 0; i < images; i++)
            {
                var clock = Stopwatch.StartNew();
                features = await console.RunWithStatusAsync($"{name}: image {i + 1} of {images}", () => Task.FromResult(encoder.Encode(pixels.Values, 1, cancellationToken)));
                seconds.Add(clock.Elapsed.TotalSeconds);
            }

            // The first model is the baseline (fp32): a quantized tower's image tokens, by cosine to its.
            baseline ??= features;
            double cosine = baseline.Chunk(vision.TextHiddenSize).Zip(features.Chunk(vision.TextHiddenSize)).Average(p => TensorPrimitives.CosineSimilarity(p.First, p.Second));
            double mean = seconds.Average();
            rows.Add([name, (1 / mean).ToString("F3", culture), mean.ToString("F2", culture), (flops / mean / limit).ToString("F2", culture), (loaded / 1048576.0).ToString("F0", culture), cosine.ToString("F4", culture)]);
        }

        console.WriteTable("vision graph throughput (one image per run; GEMM ratio = tower FLOPs × images/s ÷ GEMM limit, target ≥ 0.6; cosine = mean per-token cosine of the image features to the first model's, target ≥ 0.99)", ["model", "images/s", "s/image", "GEMM ratio", "loaded MiB", "cosine to first"], rows);
        await console.Out.WriteLineAsync(string.Create(culture, $"peak resident memory of the process: {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MiB"));

        foreach (string model in models.Where(m => File.Exists(Path.Combine(m, DecoderGraphNames.StepFile))))
        {
            await FirstTokenAsync(console, model, pixels, textTokens, session, cancellationToken);
        }

        return ExitCodes.Success;
    }

    /// <summary>Time to the first answer token with one image and <paramref name="textTokens"/> of text, beside the text alone: what ask adds to retrieval and packing.</summary>
    private static async Task FirstTokenAsync(CliConsole console, string model, PixelValues image, int textTokens, OnnxSessionOptions session, CancellationToken cancellationToken)
    {
        var culture = CultureInfo.InvariantCulture;
        using var generator = Seq2SeqGenerator.Create(model, session);
        int[] words = [.. generator.Tokenizer.EncodeToIdsAsPlainText(string.Join(' ', Enumerable.Range(0, textTokens).Select(i => $"word{i % 89}")))];
        string text = generator.Tokenizer.Decode(words.Take(textTokens));
        var one = new GenerationOptions { MaxNewTokens = 1 };
        await generator.GenerateAsync([generator.CreateInput("warm-up", [image])], one, cancellationToken); // untimed
        var results = new List<(string Input, int Tokens, double Seconds, GenerationTimings Timings)>();
        foreach (var (label, input) in new[] { ("text alone", generator.CreateInput(text, [])), ("one image + text", generator.CreateInput(text, [image])) })
        {
            var clock = Stopwatch.StartNew();
            var result = await console.RunWithStatusAsync($"{model}: first token, {label}", () => generator.GenerateAsync([input], one, cancellationToken));
            results.Add((label, input.Ids.Length, clock.Elapsed.TotalSeconds, result[0].Timings!));
        }

        console.WriteTable($"time to first token, {Path.GetFileName(model.TrimEnd(Path.DirectorySeparatorChar))} (vision tower + encoder + cross cache + first step)", ["input", "encoder tokens", "first token s", "encode s", "cross cache s"], results.Select(r => (string[])[
            r.Input, r.Tokens.ToString("N0", culture), r.Seconds.ToString("F2", culture), r.Timings.Encode.TotalSeconds.ToString("F2", culture), r.Timings.CrossCache.TotalSeconds.ToString("F2", culture)]));
    }

    private static long ResidentBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        if (OperatingSystem.IsLinux())
        {
            // A model disposed before leaves its freed native memory in glibc's heap, where the next one's load would
            // reuse it unseen: hand it back first, so the difference is what the load takes.
            MallocTrim(0);
        }

        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);
}
