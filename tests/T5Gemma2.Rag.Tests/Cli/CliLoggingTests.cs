using System.Text.Json;
using Microsoft.Extensions.Logging;
using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Cli.Logging;
using T5Gemma2.Rag.Tests.Infrastructure;
using T5Gemma2.Rag.Tests.Pipeline;

namespace T5Gemma2.Rag.Tests.Cli;

/// <summary>
/// The libraries' log messages reach the user on stderr: warnings by default, none with --quiet, debug lines only
/// with --verbose; stdout keeps carrying only results. Real MiniLM model, real store, t5rag run in-process.
/// </summary>
public sealed class CliLoggingTests(SharedTinyT5Gemma2 tiny) : IDisposable
{
    private const string Truncated = "t5rag: warning: 1 of 1 inputs were longer than 256 tokens and were truncated";

    // About 600 MiniLM tokens: the embedding generator truncates it to 256 and warns.
    private static readonly string s_longQuery = string.Join(' ', Enumerable.Repeat("How does the ferry timetable change in winter?", 60));

    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        this._directory.Dispose();
    }

    [Fact]
    public async Task ALibraryWarningIsOnStderrByDefaultAndNotWithQuiet()
    {
        string store = await this.IndexAsync();

        var (code, output, error) = await CliRunner.RunAsync("search", s_longQuery, "--store", store, "--model", TestAssets.MiniLmDirectory, "--top", "2");
        Assert.True(code == ExitCodes.Success, error);
        Assert.Single(Lines(error), line => line == Truncated);
        Assert.DoesNotContain("t5rag:", output, StringComparison.Ordinal);
        Assert.DoesNotContain("t5rag: debug:", error, StringComparison.Ordinal);
        Assert.DoesNotContain("t5rag: info:", error, StringComparison.Ordinal);

        var (quiet, quietOutput, quietError) = await CliRunner.RunAsync("search", s_longQuery, "--store", store, "--model", TestAssets.MiniLmDirectory, "--top", "2", "--quiet");
        Assert.Equal(ExitCodes.Success, quiet);
        Assert.Equal(output, quietOutput);
        Assert.DoesNotContain("t5rag: warning:", quietError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerboseAddsDebugLinesOnStderrAndSearchJsonStaysJson()
    {
        string store = await this.IndexAsync();

        // --verbose before the command: it is global.
        var (code, output, error) = await CliRunner.RunAsync("--verbose", "search", s_longQuery, "--store", store, "--model", TestAssets.MiniLmDirectory, "--top", "2", "--json");
        Assert.True(code == ExitCodes.Success, error);
        var hits = JsonDocument.Parse(output).RootElement;
        Assert.Equal(JsonValueKind.Array, hits.ValueKind);
        Assert.Equal(2, hits.GetArrayLength());
        Assert.Contains(Lines(error), line => line.StartsWith("t5rag: info: Loaded embedding model sentence-transformers/all-MiniLM-L6-v2", StringComparison.Ordinal));
        Assert.Contains(Lines(error), line => line.StartsWith("t5rag: debug: Embedded 1 inputs (256 tokens) in 1 runs", StringComparison.Ordinal));
        Assert.Contains(Truncated, Lines(error));
    }

    [Fact]
    public async Task IndexWarnsAsEachFileFailsAndVerboseNamesSkippedFiles()
    {
        string docs = this._directory.Combine("docs");
        TestCorpus.WriteMarkdown(docs, TestCorpus.Records(2));
        string bad = this._directory.Write("docs/bad.docx", "not a zip");
        string unsupported = this._directory.Write("docs/data.xyz", "no loader reads this");
        string store = this._directory.Combine("store");

        var (code, _, error) = await CliRunner.RunAsync("index", docs, "--store", store, "--model", TestAssets.MiniLmDirectory, "--verbose");
        Assert.Equal(ExitCodes.PartialFailure, code);
        Assert.Single(Lines(error), line => line.StartsWith($"t5rag: warning: {bad} was not indexed: ", StringComparison.Ordinal));
        Assert.Contains($"t5rag: debug: Skipped {unsupported}: no loader reads its type", Lines(error));
        Assert.Contains(Lines(error), line => line.StartsWith("t5rag: debug: Ingest run: 2 documents new, 0 changed, 0 unchanged", StringComparison.Ordinal));

        // Quiet: the summary still names the failure (it is the command's result), the warning is gone.
        var (again, _, quietError) = await CliRunner.RunAsync("index", docs, "--store", store, "--model", TestAssets.MiniLmDirectory, "--quiet");
        Assert.Equal(ExitCodes.PartialFailure, again);
        Assert.Contains($"  {bad}: ", quietError, StringComparison.Ordinal);
        Assert.DoesNotContain("t5rag: warning:", quietError, StringComparison.Ordinal);
        Assert.DoesNotContain("t5rag: debug:", quietError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AskLogsPackingWithVerboseAndWarnsWhenTheTimeLimitCutsTheAnswer()
    {
        string store = await this.IndexAsync();

        var (code, output, error) = await CliRunner.RunAsync("ask", "When does the ferry leave?", "--store", store, "--model", TestAssets.MiniLmDirectory, "--generator", tiny.ConvertedDirectory, "--top", "2", "--max-new-tokens", "4", "--json", "--verbose");
        Assert.True(code == ExitCodes.Success, error);
        Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(output).RootElement.ValueKind);
        Assert.Contains(Lines(error), line => line.StartsWith("t5rag: debug: Retrieved 2 passages in ", StringComparison.Ordinal) && line.Contains("; packed 2 into ", StringComparison.Ordinal));
        Assert.Contains(Lines(error), line => line.StartsWith("t5rag: debug: Answered in ", StringComparison.Ordinal));

        // A limit far shorter than one decoder step: the answer is cut, and that is a warning.
        var (cut, cutOutput, cutError) = await CliRunner.RunAsync("ask", "When does the ferry leave?", "--store", store, "--model", TestAssets.MiniLmDirectory, "--generator", tiny.ConvertedDirectory, "--max-new-tokens", "64", "--timeout", "0.000001", "--json");
        Assert.True(cut == ExitCodes.Success, cutError);
        Assert.True(JsonDocument.Parse(cutOutput).RootElement.GetProperty("timed_out").GetBoolean(), cutOutput);
        Assert.Contains(Lines(cutError), line => line.StartsWith("t5rag: warning: The answer was cut off by the ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task VerboseAndQuietTogetherAreAUsageError()
    {
        var (code, output, error) = await CliRunner.RunAsync("embed", "--model", TestAssets.MiniLmDirectory, "--verbose", "--quiet", "text");
        Assert.Equal((ExitCodes.UsageError, ""), (code, output));
        Assert.Contains("t5rag: --verbose and --quiet cannot be used together.", error, StringComparison.Ordinal);
    }

    [Fact]
    public void EachMessageIsOneLineWithItsLevelAndException()
    {
        var error = new StringWriter();
        using var provider = new CliLoggerProvider(error);
        var logger = provider.CreateLogger("T5Gemma2.Rag.Test");
        logger.LogWarning(new IOException("disk full\nat the second line"), "first\nsecond");
        logger.LogError("broken");
        Assert.Equal(
            ["t5rag: warning: first second (IOException: disk full at the second line)", "t5rag: error: broken"],
            Lines(error.ToString()));
    }

    private async Task<string> IndexAsync()
    {
        string docs = this._directory.Combine("docs");
        TestCorpus.WriteMarkdown(docs, TestCorpus.Records(4));
        string store = this._directory.Combine("store");
        var (code, _, error) = await CliRunner.RunAsync("index", docs, "--store", store, "--model", TestAssets.MiniLmDirectory);
        Assert.True(code == ExitCodes.Success, error);
        return store;
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
