using System.Diagnostics;
using System.Globalization;
using System.Text;
using T5Gemma2.Rag.Cli.Commands;
using T5Gemma2.Rag.Cli.Console;

namespace T5Gemma2.Rag.Cli.Bench;

/// <summary>
/// Cold load time, retained memory and single-thread throughput of a tokenizer over distinct real text, each against
/// the limit: ≥ 1 M tokens/s, load ≤ 2 s.
/// </summary>
internal static class TokenizerBenchmark
{
    private const double TargetTokensPerSecond = 1_000_000;
    private const double LoadLimitSeconds = 2.0;

    public static async Task<int> RunAsync(CliConsole console, string tokenizerPath, string[] corpus, double minimumMegabytes, CancellationToken cancellationToken)
    {
        await BenchEnvironment.WriteAsync(console, "1 (the tokenizer is measured on one thread; no model is loaded)");
        // Cold load: the first load in this process, JIT included, as a user meets it.
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var stopwatch = Stopwatch.StartNew();
        var tokenizer = TokenizerSource.Load(tokenizerPath);
        double loadSeconds = stopwatch.Elapsed.TotalSeconds;
        long retained = GC.GetTotalMemory(forceFullCollection: true) - before;

        var texts = await console.RunWithStatusAsync("reading corpus", () => Task.FromResult(BenchCorpus.ReadDistinct(corpus)));
        long bytes = texts.Sum(t => (long)Encoding.UTF8.GetByteCount(t));
        double megabytes = bytes / 1e6;
        if (megabytes < minimumMegabytes)
        {
            await console.Error.WriteLineAsync($"t5rag bench tokenizer: the corpus has {megabytes:F2} MB of distinct text; expected at least {minimumMegabytes:F1} MB (add files with --corpus).");
            return ExitCodes.UsageError;
        }

        // Warm the JIT on text outside the corpus, so the timed pass sees no text twice.
        foreach (string warm in new[] { "Warm-up: the JIT compiles 123 paths 東京 🙂 <b>x</b>\n\tend", "Zweiter Satz, ganz anders. مرحبا" })
        {
            TokenizerSource.Encode(tokenizer, warm, withSpecialTokens: false);
        }

        long tokens = 0;
        double seconds = await console.RunWithStatusAsync($"tokenizing {texts.Count:N0} texts ({megabytes:F2} MB), one thread", () =>
        {
            var timer = Stopwatch.StartNew();
            foreach (string text in texts)
            {
                cancellationToken.ThrowIfCancellationRequested();
                tokens += TokenizerSource.Encode(tokenizer, text, withSpecialTokens: false).Count;
            }

            return Task.FromResult(timer.Elapsed.TotalSeconds);
        });

        double tokensPerSecond = tokens / seconds;
        var culture = CultureInfo.InvariantCulture;
        console.WriteTable(
            $"tokenizer benchmark: {Path.GetFileName(Path.GetFullPath(tokenizerPath))}",
            ["measure", "value", "limit", "ratio"],
            [
                ["throughput (1 thread)", string.Create(culture, $"{tokensPerSecond / 1e6:F2} M tokens/s"), "≥ 1.00 M tokens/s", string.Create(culture, $"{tokensPerSecond / TargetTokensPerSecond:F2}x")],
                ["cold load", string.Create(culture, $"{loadSeconds:F2} s"), "≤ 2.00 s", string.Create(culture, $"{loadSeconds / LoadLimitSeconds:F2} of limit")],
                ["retained memory", string.Create(culture, $"{retained / 1048576.0:F1} MiB"), "", ""],
                ["corpus", string.Create(culture, $"{texts.Count:N0} texts, {megabytes:F2} MB, {tokens:N0} tokens, {seconds:F2} s"), "≥ 5 MB", ""],
            ]);

        bool met = tokensPerSecond >= TargetTokensPerSecond && loadSeconds <= LoadLimitSeconds;
        await console.Out.WriteLineAsync(met ? "targets met" : "TARGET MISSED");
        return ExitCodes.Success;
    }
}
