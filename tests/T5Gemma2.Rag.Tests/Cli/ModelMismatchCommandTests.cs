using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Tests.Infrastructure;
using T5Gemma2.Rag.Tests.Pipeline;

namespace T5Gemma2.Rag.Tests.Cli;

/// <summary>A collection built with MiniLM, then indexed, searched and asked with the tiny T5Gemma 2 as the embedding model.</summary>
public sealed class ModelMismatchCommandTests(SharedTinyT5Gemma2 tiny) : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        this._directory.Dispose();
    }

    [Fact]
    public async Task IndexSearchAndAskWithAnotherModelExitThreeWithOneLineNamingBothModels()
    {
        string docs = this._directory.Combine("docs");
        var records = TestCorpus.Records(3);
        TestCorpus.WriteMarkdown(docs, records);
        string store = this._directory.Combine("store");
        Assert.Equal(ExitCodes.Success, (await CliRunner.RunAsync("index", docs, "--store", store, "--model", TestAssets.MiniLmDirectory)).ExitCode);

        string[][] commands =
        [
            ["index", docs, "--store", store, "--model", tiny.ConvertedDirectory],
            ["search", records[1].Title, "--store", store, "--model", tiny.ConvertedDirectory],
            ["ask", records[1].Title, "--store", store, "--model", tiny.ConvertedDirectory, "--generator", tiny.ConvertedDirectory, "--max-new-tokens", "2"],
        ];
        foreach (string[] command in commands)
        {
            var (code, _, error) = await CliRunner.RunAsync(command);
            Assert.True(code == ExitCodes.InputError, $"{command[0]}: exit {code}, {error}");
            string line = Assert.Single(error.Trim().Split('\n'));
            Assert.StartsWith("t5rag: collection 'default' holds 384-dimension vectors of model 'sentence-transformers/all-MiniLM-L6-v2'; the model given makes ", line, StringComparison.Ordinal);
            Assert.DoesNotContain("internal error", line, StringComparison.Ordinal);
        }

        // Nothing was written by the refused index: the collection still holds the first run's passages only, searchable with its model.
        var (searched, output, _) = await CliRunner.RunAsync("search", records[1].Title, "--store", store, "--model", TestAssets.MiniLmDirectory, "--top", "1");
        Assert.Equal(ExitCodes.Success, searched);
        Assert.Contains("0001.md", output, StringComparison.Ordinal);
    }
}
