using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Cli.Configuration;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Cli;

/// <summary>t5rag.json settings, environment overrides, and their errors.</summary>
public sealed class T5RagSettingsTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => this._directory.Dispose();

    [Fact]
    public void FileValuesApplyAndTheEnvironmentOverridesThem()
    {
        string path = this._directory.Write("t5rag.json", """
            // comments are allowed
            { "model": "models/minilm", "store": "kb-store", "collection": "docs",
              "chunking": { "maxTokens": 200, "overlapTokens": 20 }, "search": { "mode": "keyword", "top": 7 }, }
            """);
        var environment = new Dictionary<string, string> { ["T5RAG_COLLECTION"] = "override", ["T5RAG_SEARCH_TOP"] = "3" };

        var fromFile = T5RagSettings.Load(path, _ => null);
        var overridden = T5RagSettings.Load(path, name => environment.GetValueOrDefault(name));

        Assert.Equal(("models/minilm", "kb-store", "docs", 200, 20, SearchMode.Keyword, 7), (fromFile.Model, fromFile.Store, fromFile.Collection, fromFile.ChunkTokens, fromFile.OverlapTokens, fromFile.SearchMode, fromFile.SearchTop));
        Assert.Equal(("override", 3, "kb-store"), (overridden.Collection, overridden.SearchTop, overridden.Store));
        var defaults = T5RagSettings.Load(path: null, _ => null);
        Assert.Equal((".t5rag", "default", SearchMode.Hybrid, 10), (defaults.Store, defaults.Collection, defaults.SearchMode, defaults.SearchTop));
    }

    [Theory]
    [InlineData("{ \"search\": { \"top\": -1 } }", "search.top")]
    [InlineData("{ \"search\": { \"mode\": \"fuzzy\" } }", "fuzzy")]
    [InlineData("{ \"store\": 5 }", "\"store\"")]
    [InlineData("[1, 2]", "JSON object")]
    [InlineData("{ not json", "cannot be read")]
    public void BadFilesNameTheFieldAndWhatWasExpected(string json, string named)
    {
        string path = this._directory.Write("bad.json", json);
        var ex = Assert.Throws<InputFileException>(() => T5RagSettings.Load(path, _ => null));
        Assert.Contains(named, ex.Message, StringComparison.Ordinal);
        Assert.StartsWith(path, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheThreadCountComesFromTheFileOrTheEnvironment()
    {
        string path = this._directory.Write("threads.json", """{ "threads": 3 }""");

        Assert.Equal(3, T5RagSettings.Load(path, _ => null).Threads);
        Assert.Equal(5, T5RagSettings.Load(path, name => name == "T5RAG_THREADS" ? "5" : null).Threads);
        Assert.Null(T5RagSettings.Load(null, _ => null).Threads);
        Assert.Contains("\"threads\"", Assert.Throws<InputFileException>(() => T5RagSettings.Load(this._directory.Write("zero.json", """{ "threads": 0 }"""), _ => null)).Message, StringComparison.Ordinal);
        Assert.Contains("T5RAG_THREADS", Assert.Throws<InputFileException>(() => T5RagSettings.Load(null, name => name == "T5RAG_THREADS" ? "all" : null)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ABadEnvironmentValueNamesTheVariable()
    {
        var ex = Assert.Throws<InputFileException>(() => T5RagSettings.Load(null, name => name == "T5RAG_CHUNK_TOKENS" ? "many" : null));
        Assert.Contains("T5RAG_CHUNK_TOKENS", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheCommandsUseTheSettingsFile()
    {
        string docs = this._directory.Combine("docs");
        Pipeline.TestCorpus.WriteMarkdown(docs, Pipeline.TestCorpus.Records(3));
        string store = this._directory.Combine("configured-store");
        string config = this._directory.Write("settings.json", $$"""{ "model": {{System.Text.Json.JsonSerializer.Serialize(TestAssets.MiniLmDirectory)}}, "store": {{System.Text.Json.JsonSerializer.Serialize(store)}}, "collection": "from-config", "search": { "mode": "keyword", "top": 1 } }""");

        Assert.Equal(ExitCodes.Success, (await CliRunner.RunAsync("index", docs, "--config", config)).ExitCode);
        var (code, output, _) = await CliRunner.RunAsync("search", Pipeline.TestCorpus.Records(3)[1].Title, "--config", config);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

        Assert.Equal(ExitCodes.Success, code);
        Assert.True(File.Exists(Path.Combine(store, "from-config", "collection.db")));
        Assert.Single(output.Split('\n'), l => l.TrimStart().StartsWith("1.", StringComparison.Ordinal));
        Assert.DoesNotContain(" 2. ", output, StringComparison.Ordinal);
        Assert.Contains("0001.md", output, StringComparison.Ordinal);
    }
}
