using System.Diagnostics;
using System.Globalization;
using T5Gemma2.Rag.Cli.Console;
using T5Gemma2.Rag.Encoder.Generation;

namespace T5Gemma2.Rag.Cli.Bench;

/// <summary>
/// Time per sampled token of <see cref="TokenSampler.Sample"/> over a full vocabulary, for top-k, top-p and both:
/// the part of a sampled decoding step that is not the model. The logits are seeded Gaussians (a new row per token),
/// whose spread sets how many tokens top-p keeps.
/// </summary>
internal static class SamplerBenchmark
{
    public static async Task<int> RunAsync(CliConsole console, int vocabulary, int tokens, double spread, int seed, CancellationToken cancellationToken)
    {
        await BenchEnvironment.WriteAsync(console, "1 (the calling thread)");
        var source = new Random(seed);
        var rows = new float[Math.Min(tokens, 16)][];
        for (int r = 0; r < rows.Length; r++)
        {
            rows[r] = new float[vocabulary];
            for (int i = 0; i < vocabulary; i++)
            {
                // Box–Muller: a normal logit with the given standard deviation.
                rows[r][i] = (float)(spread * Math.Sqrt(-2 * Math.Log(1 - source.NextDouble())) * Math.Cos(2 * Math.PI * source.NextDouble()));
            }
        }

        (string Name, GenerationOptions Options)[] settings =
        [
            ("top-k 50", new GenerationOptions { Sample = true, TopK = 50 }),
            ("top-p 0.9", new GenerationOptions { Sample = true, TopP = 0.9f }),
            ("top-k 50 + top-p 0.9", new GenerationOptions { Sample = true, TopK = 50, TopP = 0.9f }),
            ("temperature only", new GenerationOptions { Sample = true }),
        ];
        await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"vocabulary {vocabulary}, {tokens} tokens per setting, logits N(0, {spread}) over {rows.Length} rows, seed {seed}"));
        console.WriteTable("sampling time per token", ["setting", "µs/token (median)", "µs/token (p90)", "checksum"], [.. settings.Select(setting =>
        {
            cancellationToken.ThrowIfCancellationRequested();
            var random = new Random(seed);
            var times = new double[tokens];
            long checksum = 0;
            for (int t = 0; t < Math.Min(tokens, 8); t++)
            {
                TokenSampler.Sample(rows[t % rows.Length], setting.Options, new Random(t)); // warm-up (JIT, pools)
            }

            for (int t = 0; t < tokens; t++)
            {
                long start = Stopwatch.GetTimestamp();
                checksum += TokenSampler.Sample(rows[t % rows.Length], setting.Options, random);
                times[t] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }

            return (string[])[setting.Name, Percentile.Of(times, 0.5).ToString("F0", CultureInfo.InvariantCulture), Percentile.Of(times, 0.9).ToString("F0", CultureInfo.InvariantCulture), checksum.ToString(CultureInfo.InvariantCulture)];
        })]);
        return ExitCodes.Success;
    }
}
