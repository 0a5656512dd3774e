using System.Text.Json;
using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Tests.Infrastructure;
using T5Gemma2.Rag.Tests.Pipeline;

namespace T5Gemma2.Rag.Tests.Cli;

/// <summary>
/// The vector length from --dimensions, the settings file and T5RAG_DIMENSIONS to the collection and to the query, with
/// the real MiniLM: a 128-dimension collection is searched at its recorded length without a flag and refuses 384.
/// </summary>
public sealed class MatryoshkaCollectionCommandTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        this._directory.Dispose();
    }

    [Fact]
    public async Task TheSettingsFileLengthReachesTheCollectionAndSearchUsesTheRecordedOne()
    {
        string docs = this._directory.Combine("docs");
        var records = TestCorpus.Records(4);
        TestCorpus.WriteMarkdown(docs, records);
        string store = this._directory.Combine("store");
        string config = this._directory.Write("t5rag.json", JsonSerializer.Serialize(new { dimensions = 128 }));

        var (indexed, _, indexError) = await CliRunner.RunAsync("index", docs, "--store", store, "--model", TestAssets.MiniLmDirectory, "--config", config);
        Assert.True(indexed == ExitCodes.Success, indexError);
        var (_, shown, _) = await CliRunner.RunAsync("collections", "info", "--store", store);
        Assert.Contains("(128 dimensions)", shown, StringComparison.Ordinal);
        // MiniLM has no prompts: both recorded as empty, which list shows beside the length.
        var (_, listed, _) = await CliRunner.RunAsync("collections", "list", "--store", store);
        string row = Assert.Single(listed.Split('\n'), l => l.StartsWith("default", StringComparison.Ordinal));
        Assert.Matches("sentence-transformers/all-MiniLM-L6-v2 +128 +\"\" +\"\"", row);

        // No flag and no settings: the collection's recorded 128 is the query's length, and the passage is found.
        var (found, output, foundError) = await CliRunner.RunAsync("search", records[2].Title, "--store", store, "--model", TestAssets.MiniLmDirectory, "--mode", "dense", "--top", "1", "--json");
        Assert.True(found == ExitCodes.Success, foundError);
        Assert.EndsWith("0002.md", JsonDocument.Parse(output).RootElement[0].GetProperty("source").GetString(), StringComparison.Ordinal);

        // The model's full 384 given explicitly: the one mismatch line, exit 3.
        var (full, _, fullError) = await CliRunner.RunAsync("search", records[2].Title, "--store", store, "--model", TestAssets.MiniLmDirectory, "--dimensions", "384");
        Assert.Equal(ExitCodes.InputError, full);
        Assert.StartsWith(
            "t5rag: collection 'default' holds 128-dimension vectors of model 'sentence-transformers/all-MiniLM-L6-v2'; the model given makes 384-dimension vectors",
            Assert.Single(fullError.Trim().Split('\n')),
            StringComparison.Ordinal);

        // Adding to it without a flag takes the recorded length too (no mismatch), and the option beats the file.
        var (again, _, againError) = await CliRunner.RunAsync("index", docs, "--store", store, "--model", TestAssets.MiniLmDirectory);
        Assert.True(again == ExitCodes.Success, againError);
        var (overridden, _, overriddenError) = await CliRunner.RunAsync("search", records[2].Title, "--store", store, "--model", TestAssets.MiniLmDirectory, "--config", config, "--dimensions", "64");
        Assert.Equal(ExitCodes.InputError, overridden);
        Assert.Contains("makes 64-dimension vectors", overriddenError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACollectionMadeBeforePromptsWereRecordedOpensIsSearchableAndTakesMorePassages()
    {
        string docs = this._directory.Combine("docs");
        var records = TestCorpus.Records(3);
        TestCorpus.WriteMarkdown(docs, records);
        string store = this._directory.Combine("store");
        Assert.Equal(ExitCodes.Success, (await CliRunner.RunAsync("index", docs, "--store", store, "--model", TestAssets.MiniLmDirectory)).ExitCode);

        // What an older t5rag wrote: the same meta table without the prompt keys.
        string file = Assert.Single(Directory.GetFiles(store, "collection.db", SearchOption.AllDirectories));
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file}"))
        {
            connection.Open();
            using var delete = connection.CreateCommand();
            delete.CommandText = "DELETE FROM meta WHERE key IN ('query_prompt', 'passage_prompt')";
            Assert.Equal(2, delete.ExecuteNonQuery());
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var (_, shown, _) = await CliRunner.RunAsync("collections", "info", "--store", store);
        Assert.Contains("prompts: query (not recorded); passage (not recorded)", shown, StringComparison.Ordinal);
        var (found, output, foundError) = await CliRunner.RunAsync("search", records[1].Title, "--store", store, "--model", TestAssets.MiniLmDirectory, "--mode", "dense", "--top", "1", "--json");
        Assert.True(found == ExitCodes.Success, foundError);
        Assert.EndsWith("0001.md", JsonDocument.Parse(output).RootElement[0].GetProperty("source").GetString(), StringComparison.Ordinal);
        TestCorpus.WriteMarkdown(this._directory.Combine("more"), TestCorpus.Records(5));
        var (added, _, addedError) = await CliRunner.RunAsync("index", this._directory.Combine("more"), "--store", store, "--model", TestAssets.MiniLmDirectory);
        Assert.True(added == ExitCodes.Success, addedError);
    }

    [Fact]
    public async Task TheEnvironmentLengthReachesTheCollectionInARealProcess()
    {
        string docs = this._directory.Combine("docs");
        TestCorpus.WriteMarkdown(docs, TestCorpus.Records(2));
        string store = this._directory.Combine("store");
        var environment = new Dictionary<string, string> { ["T5RAG_DIMENSIONS"] = "96" };

        var (indexed, _, indexError) = await T5ragProcess.RunAsync(environment, this._directory.Path, ["index", docs, "--store", store, "--model", TestAssets.MiniLmDirectory]);
        Assert.True(indexed == ExitCodes.Success, indexError);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var (_, shown, _) = await CliRunner.RunAsync("collections", "info", "--store", store);
        Assert.Contains("(96 dimensions)", shown, StringComparison.Ordinal);

        var (bad, _, badError) = await T5ragProcess.RunAsync(new Dictionary<string, string> { ["T5RAG_DIMENSIONS"] = "0" }, this._directory.Path, ["search", "x", "--store", store, "--model", TestAssets.MiniLmDirectory]);
        Assert.Equal(ExitCodes.InputError, bad);
        Assert.Contains("T5RAG_DIMENSIONS", Assert.Single(badError.Trim().Split('\n')), StringComparison.Ordinal);
    }
}
