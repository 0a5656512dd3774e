using System.Diagnostics;
using System.Globalization;
using T5Gemma2.Rag.Cli.Console;
using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Onnx;

namespace T5Gemma2.Rag.Cli.Bench;

/// <summary>
/// Decoding speed of converted T5Gemma 2 models, batch 1, after a long encoder input: tokens/s with the cache beside
/// the memory-bandwidth limit measured in the same run with the same threads (the weight bytes one step must read ÷
/// the measured copy bandwidth), time to first token beside its compute floor (the encoder's FLOPs ÷ the measured
/// GEMM limit), cached ÷ uncached at the same number of new tokens, and peak memory.
/// </summary>
internal static class DecoderBenchmark
{
    public static async Task<int> RunAsync(CliConsole console, string[] models, int inputTokens, int newTokens, OnnxSessionOptions session, string? profilePrefix, CancellationToken cancellationToken)
    {
        var culture = CultureInfo.InvariantCulture;
        int threads = session.IntraOpThreads;
        await BenchEnvironment.WriteAsync(console, BenchEnvironment.IntraOp(threads));
        double bandwidth = await console.RunWithStatusAsync($"measuring memory bandwidth (copying 1 GiB on {threads} threads)", () => Task.FromResult(ComputeLimits.MeasureBandwidth(threads)));
        await console.Out.WriteLineAsync(string.Create(culture, $"memory bandwidth: {bandwidth / 1e9:F1} GB/s (read + write of a 1 GiB copy on {threads} threads, best of 5)"));
        var head = T5Gemma2.Rag.Encoder.Models.T5Gemma2Config.Read(Path.Combine(models[0], "config.json")).Encoder;
        double int4Kernel = await console.RunWithStatusAsync("measuring ONNX Runtime's one-row kernels", () => Task.FromResult(ComputeLimits.MeasureOneRowKernel(head.HiddenSize, head.VocabSize, 4, session)));
        double fp32Kernel = ComputeLimits.MeasureOneRowKernel(head.HiddenSize, head.VocabSize / 8, 32, session);
        await console.Out.WriteLineAsync(string.Create(culture, $"one-row kernels on {threads} threads: int4 MatMulNBits (fp32 activations) reads {int4Kernel / 1e9:F1} GB/s, fp32 MatMul {fp32Kernel / 1e9:F1} GB/s (weights [{head.HiddenSize} × {head.VocabSize:N0}] and [{head.HiddenSize} × {head.VocabSize / 8:N0}], best of 10); a step cannot read its weights faster than these"));

        var rows = new List<string[]>();
        foreach (string model in models)
        {
            if (profilePrefix is not null)
            {
                Directory.CreateDirectory(profilePrefix);
            }

            var options = profilePrefix is null ? session : session.WithProfile(Path.Combine(profilePrefix, Path.GetFileName(model.TrimEnd('/'))));
            var generator = Seq2SeqGenerator.Create(model, options);
            try
            {
                var encoderConfig = generator.Config.Encoder;
                double gemm = await console.RunWithStatusAsync($"{model}: measuring the GEMM limit", () => Task.FromResult(ComputeLimits.MeasureGemm(encoderConfig, session)));

                // Input of the requested length from ordinary words; the random models answer garbage, which is all a speed test needs.
                string input = string.Join(' ', Enumerable.Repeat("retrieval augmented generation over internal knowledge", inputTokens / 5 + 1));
                var ids = generator.Tokenizer.EncodeToIds(input);
                input = generator.Tokenizer.Decode(ids.Take(inputTokens).Skip(1), skipSpecialTokens: true);
                int encoderTokens = generator.Tokenizer.EncodeToIds(input).Count;

                await generator.GenerateAsync(input[..200], new GenerationOptions { MaxNewTokens = 2, MinNewTokens = 2 }, cancellationToken); // warm-up

                var generation = new GenerationOptions { MaxNewTokens = newTokens, MinNewTokens = newTokens };
                var stopwatch = Stopwatch.StartNew();
                double firstToken = 0;
                int produced = 0;
                await foreach (string _ in generator.GenerateStreamingAsync(input, generation, cancellationToken))
                {
                    if (produced++ == 0)
                    {
                        firstToken = stopwatch.Elapsed.TotalSeconds;
                    }
                }

                double cachedSeconds = stopwatch.Elapsed.TotalSeconds;
                double decodeRate = (newTokens - 1) / (cachedSeconds - firstToken);

                stopwatch.Restart();
                await console.RunWithStatusAsync($"{model}: {newTokens} tokens without the cache", () => generator.GenerateAsync(input, new GenerationOptions { MaxNewTokens = newTokens, MinNewTokens = newTokens, UseCache = false }, cancellationToken));
                double uncachedSeconds = stopwatch.Elapsed.TotalSeconds;

                double weightBytes = StepWeightBytes(model);
                var decoder = generator.Config.Decoder!;
                double cacheBytes = 2.0 * decoder.NumLayers * decoder.NumKeyValueHeads * decoder.HeadDim * 4 * (encoderTokens + newTokens / 2.0);
                double limit = bandwidth / weightBytes;
                double floor = ComputeLimits.EncoderFlopsPerToken(encoderConfig, encoderTokens) * encoderTokens / gemm;
                using var process = Process.GetCurrentProcess();
                rows.Add([
                    model,
                    decodeRate.ToString("F1", culture),
                    limit.ToString("F1", culture),
                    (decodeRate / limit).ToString("F2", culture),
                    (decodeRate / (bandwidth / (weightBytes + cacheBytes))).ToString("F2", culture),
                    (firstToken * 1000).ToString("F0", culture),
                    (floor * 1000).ToString("F0", culture),
                    (uncachedSeconds / cachedSeconds).ToString("F1", culture),
                    (process.PeakWorkingSet64 / 1048576.0).ToString("F0", culture),
                ]);
            }
            finally
            {
                generator.Dispose(); // profiles are written when the sessions close
            }

            if (profilePrefix is not null)
            {
                await OnnxProfileSummary.WriteAsync(console, Path.Combine(profilePrefix, Path.GetFileName(model.TrimEnd('/'))));
            }
        }

        console.WriteTable(
            $"decoder, batch 1, {inputTokens}-token input, {newTokens} new tokens; limit = bandwidth ÷ the step's weight bytes; floor = encoder FLOPs ÷ GEMM limit",
            ["model", "tokens/s (cached)", "bandwidth limit", "ratio", "ratio with cache reads", "first token ms", "first token floor ms", "cached ÷ uncached speed", "peak RSS MiB (process)"],
            rows);
        return ExitCodes.Success;
    }

    /// <summary>
    /// What one decode step reads of weights: the step graph's, and with fp32 or int8 weights the whole tied embedding,
    /// which the logits' Gemm reads every step. With int4 the logits go through a 4-bit copy inside the step graph, and
    /// the fp32 table (in its own file) is only gathered, one row per step.
    /// </summary>
    private static double StepWeightBytes(string model)
    {
        static long Size(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;
        string graph = Path.Combine(model, DecoderGraphNames.StepFile);
        var manifest = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(model, "t5rag.json"))).RootElement;
        bool tableLogits = !manifest.TryGetProperty("weights", out var weights) || weights.GetString() is "fp32" or "int8";
        return Size(graph) + Size(graph + "_data") + (tableLogits ? Size(Path.Combine(model, "onnx", EncoderGraphNames.SharedEmbeddingFile)) : 0);
    }
}
