using Microsoft.Extensions.Logging.Abstractions;
using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Cli.Configuration;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Cli;

/// <summary>
/// t5rag.json: its values, its errors (one line naming the file and the field) and its unknown keys (a warning with
/// the nearest real key). These run in this process, which reads this process's environment: they skip where the
/// shell that runs them sets settings variables (SettingsEnvironmentTests covers the environment, in child processes).
/// </summary>
public sealed class T5RagSettingsTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => this._directory.Dispose();

    [Fact]
    public void FileValuesApplyAndDefaultsFillTheRest()
    {
        SettingsVariables.SkipWhereSet();
        string path = this._directory.Write("t5rag.json", """
            // comments and trailing commas are allowed
            { "model": "models/minilm", "store": "kb-store", "collection": "docs", "threads": 3, "dimensions": 256,
              "chunking": { "maxTokens": 200, "overlapTokens": 0 }, "search": { "mode": "Keyword", "top": 7 },
              "qdrant": { "url": "qdrant://db:6334", "apiKey": "from-file" }, }
            """);

        var settings = T5RagSettings.Load(NullLoggerFactory.Instance, path);
        var defaults = T5RagSettings.Load(NullLoggerFactory.Instance, path: null);

        Assert.Equal(("models/minilm", "kb-store", "docs", 3), (settings.Model, settings.Store, settings.Collection, settings.Threads));
        Assert.Equal((200, 0, SearchMode.Keyword, 7), (settings.ChunkTokens, settings.OverlapTokens, settings.SearchMode, settings.SearchTop));
        Assert.Equal(("qdrant://db:6334", "from-file"), (settings.QdrantUrl, settings.QdrantApiKey));
        Assert.Equal((256, null), (settings.Dimensions, defaults.Dimensions));
        Assert.Equal((null, ".t5rag", "default", null, null, null), (defaults.Model, defaults.Store, defaults.Collection, defaults.Threads, defaults.ChunkTokens, defaults.OverlapTokens));
        Assert.Equal((SearchMode.Hybrid, 10, null, null), (defaults.SearchMode, defaults.SearchTop, defaults.QdrantUrl, defaults.QdrantApiKey));
    }

    [Theory]
    [InlineData("{ \"store\": 5 }", "\"store\" is Number; expected a string.")]
    [InlineData("{ \"threads\": \"many\" }", "\"threads\" is String; expected a positive integer.")]
    [InlineData("{ \"threads\": 0 }", "\"threads\" is 0; expected a positive integer.")]
    [InlineData("{ \"dimensions\": 0 }", "\"dimensions\" is 0; expected a positive integer.")]
    [InlineData("{ \"search\": { \"top\": -1 } }", "\"search.top\" is -1; expected a positive integer.")]
    [InlineData("{ \"chunking\": { \"maxTokens\": 1.5 } }", "\"chunking.maxTokens\" is 1.5; expected a positive integer.")]
    [InlineData("{ \"search\": { \"mode\": \"fuzzy\" } }", "\"search.mode\" is \"fuzzy\"; expected a search mode (dense, keyword or hybrid).")]
    [InlineData("{ \"search\": { \"mode\": \"1\" } }", "\"search.mode\" is \"1\"; expected a search mode (dense, keyword or hybrid).")]
    [InlineData("{ \"qdrant\": \"http://db:6334\" }", "\"qdrant\" is String; expected an object of \"url\", \"apiKey\".")]
    [InlineData("{ \"model\": \"a\", \"Model\": \"b\" }", "\"model\" is set twice; expected each setting once.")]
    [InlineData("[1, 2]", "is a JSON Array; expected a JSON object of settings.")]
    [InlineData("{ not json", "is not valid JSON at line 1 (")]
    [InlineData("{\n  \"model\": \"m\"\n  \"store\": \"s\"\n}", "is not valid JSON at line 3 (")]
    public async Task ABadFileIsOneLineNamingTheFileAndTheFieldAndExitsAsBadInput(string json, string problem)
    {
        SettingsVariables.SkipWhereSet();
        string path = this._directory.Write("bad.json", json);

        var (code, output, error) = await CliRunner.RunAsync("collections", "list", "--config", path, "--store", this._directory.Combine("store"));

        Assert.Equal(ExitCodes.InputError, code);
        Assert.Empty(output);
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"t5rag: {path}: {problem}", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnknownKeyIsAWarningWithTheNearestRealKeyAndTheRestStillApplies()
    {
        SettingsVariables.SkipWhereSet();
        string store = this._directory.Combine("configured-store");
        string path = this._directory.Write("t5rag.json", $$"""
            { "serach": { "top": 2 }, "chunking": { "maxToken": 100 }, "colour": "blue", "store": {{System.Text.Json.JsonSerializer.Serialize(store)}} }
            """);

        var (code, output, error) = await CliRunner.RunAsync("collections", "list", "--config", path);
        var (quiet, _, quietError) = await CliRunner.RunAsync("collections", "list", "--config", path, "--quiet");

        Assert.True(code == ExitCodes.Success, error);
        Assert.Contains($"collections in {store}", output, StringComparison.Ordinal);
        Assert.Equal(
            [
                $"t5rag: warning: {path}: unknown setting \"serach\" is ignored; did you mean \"search\"?",
                $"t5rag: warning: {path}: unknown setting \"chunking.maxToken\" is ignored; did you mean \"chunking.maxTokens\"?",
                $"t5rag: warning: {path}: unknown setting \"colour\" is ignored; the settings here are model, store, collection, threads, dimensions, chunking, search, qdrant",
            ],
            error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal((ExitCodes.Success, ""), (quiet, quietError));
    }

    [Fact]
    public async Task ADirectoryGivenAsTheSettingsFileSaysSo()
    {
        SettingsVariables.SkipWhereSet();
        string directory = this._directory.Combine("store");
        Directory.CreateDirectory(directory);

        var (code, _, error) = await CliRunner.RunAsync("collections", "list", "--config", directory, "--store", directory);

        Assert.Equal((ExitCodes.InputError, $"t5rag: {directory}: is a directory; expected a JSON settings file."), (code, error.Trim()));
    }

    [Fact]
    public async Task AnOverlapOfZeroIsAccepted()
    {
        SettingsVariables.SkipWhereSet();
        // --overlap 0 means no overlap; the file's "overlapTokens": 0 means the same.
        string path = this._directory.Write("t5rag.json", """{ "chunking": { "maxTokens": 100, "overlapTokens": 0 } }""");

        var (code, _, error) = await CliRunner.RunAsync("collections", "list", "--config", path, "--store", this._directory.Combine("store"));

        Assert.True(code == ExitCodes.Success, error);
    }

    [Fact]
    public async Task TheCommandsUseTheSettingsFile()
    {
        SettingsVariables.SkipWhereSet();
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
