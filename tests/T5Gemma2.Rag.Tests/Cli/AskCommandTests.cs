using System.Text.Json;
using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Tests.Infrastructure;
using T5Gemma2.Rag.Tests.Pipeline;

namespace T5Gemma2.Rag.Tests.Cli;

/// <summary>`t5rag ask` end to end: MiniLM retrieval over an indexed folder, the tiny T5Gemma 2 answering.</summary>
public sealed class AskCommandTests(SharedTinyT5Gemma2 tiny) : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        this._directory.Dispose();
    }

    [Fact]
    public async Task AnswersWithCitationsAndShowsTheContextAndBadInputIsOneLine()
    {
        string docs = this._directory.Combine("docs");
        var records = TestCorpus.Records(6);
        TestCorpus.WriteMarkdown(docs, records);
        string store = this._directory.Combine("store");
        Assert.Equal(ExitCodes.Success, (await CliRunner.RunAsync("index", docs, "--store", store, "--model", TestAssets.MiniLmDirectory)).ExitCode);

        var (code, output, error) = await CliRunner.RunAsync("ask", records[2].Title, "--store", store, "--model", TestAssets.MiniLmDirectory, "--generator", tiny.ConvertedDirectory, "--top", "3", "--max-new-tokens", "6", "--json", "--show-context");
        Assert.True(code == ExitCodes.Success, error);
        var answer = JsonDocument.Parse(output).RootElement;
        var citations = answer.GetProperty("citations").EnumerateArray().ToList();
        Assert.InRange(citations.Count, 1, 3);
        Assert.Equal(Enumerable.Range(1, citations.Count), citations.Select(c => c.GetProperty("number").GetInt32()));
        Assert.EndsWith("0002.md", citations[0].GetProperty("source").GetString(), StringComparison.Ordinal);
        string context = answer.GetProperty("context").GetString()!;
        Assert.StartsWith("<bos>Answer the question", context, StringComparison.Ordinal);
        Assert.Contains($"Question: {records[2].Title}", context, StringComparison.Ordinal);
        Assert.True(answer.GetProperty("context_tokens").GetInt32() <= 512);

        var (streamed, text, _) = await CliRunner.RunAsync("ask", records[2].Title, "--store", store, "--model", TestAssets.MiniLmDirectory, "--generator", tiny.ConvertedDirectory, "--max-new-tokens", "4", "--stream");
        Assert.Equal(ExitCodes.Success, streamed);
        Assert.Contains("sources", text, StringComparison.Ordinal);
        Assert.Contains("0002.md", text, StringComparison.Ordinal);

        var (empty, _, emptyError) = await CliRunner.RunAsync("ask", "   ", "--store", store, "--model", TestAssets.MiniLmDirectory, "--generator", tiny.ConvertedDirectory);
        Assert.Equal(ExitCodes.UsageError, empty);
        Assert.Single(emptyError.Trim().Split('\n'));

        var (nothing, _, nothingError) = await CliRunner.RunAsync("ask", "ships", "--store", store, "--model", TestAssets.MiniLmDirectory, "--generator", tiny.ConvertedDirectory, "--filter", "source=/nowhere/");
        Assert.Equal(ExitCodes.InputError, nothing);
        Assert.Contains("filter matches nothing", nothingError, StringComparison.Ordinal);

        var (encoderOnly, _, encoderError) = await CliRunner.RunAsync("ask", "ships", "--store", store, "--model", TestAssets.MiniLmDirectory, "--generator", TestAssets.MiniLmDirectory);
        Assert.Equal(ExitCodes.InputError, encoderOnly);
        Assert.Single(encoderError.Trim().Split('\n'));

        string tooLong = string.Join(' ', Enumerable.Repeat(records[2].Title, 400));
        var (budget, _, budgetError) = await CliRunner.RunAsync("ask", tooLong, "--store", store, "--model", TestAssets.MiniLmDirectory, "--generator", tiny.ConvertedDirectory, "--mode", "keyword");
        Assert.Equal(ExitCodes.UsageError, budget);
        Assert.Contains("budget", budgetError, StringComparison.Ordinal);
    }
}
