using T5Gemma2.Rag.Cli;

namespace T5Gemma2.Rag.Tests.Cli;

/// <summary><c>t5rag bench search</c> with Matryoshka cuts: the cut and the full length measured in one run, on the prefixes of the same vectors.</summary>
public sealed class SearchBenchCommandTests
{
    [Fact]
    public async Task ACutIsMeasuredBesideTheFullLengthInOneRun()
    {
        var (code, output, error) = await CliRunner.RunAsync("bench", "search", "--passages", "500", "--dimensions", "64,16", "--queries", "5");

        Assert.True(code == ExitCodes.Success, error);
        Assert.Contains("Matryoshka cuts beside the full length", output, StringComparison.Ordinal);
        // 500 × 16 × 4 bytes against 500 × 64 × 4: a quarter.
        string row = Assert.Single(output.Split('\n'), line => line.Contains("16 / 64", StringComparison.Ordinal));
        Assert.Contains("(0.25)", row, StringComparison.Ordinal);
        Assert.Contains("500       16          dense, exact scan", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACutWiderThanTheFirstLengthIsAUsageError()
    {
        var (code, _, error) = await CliRunner.RunAsync("bench", "search", "--passages", "500", "--dimensions", "16,64");

        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Contains("--dimensions \"16,64\"", error, StringComparison.Ordinal);
    }
}
