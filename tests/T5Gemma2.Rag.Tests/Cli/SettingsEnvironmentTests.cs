using System.Text.Json;
using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Tests.Infrastructure;
using T5Gemma2.Rag.Tests.Stores.QdrantFake;

namespace T5Gemma2.Rag.Tests.Cli;

/// <summary>
/// The settings as a user sets them, through real t5rag processes: the file, then the environment (the flat T5RAG_SEARCH_TOP
/// and the standard T5RAG_SEARCH__TOP), then the command-line options; T5RAG_CONFIG; a bad variable.
/// </summary>
public sealed class SettingsEnvironmentTests : IDisposable
{
    private static readonly Dictionary<string, string> NoVariables = [];

    private readonly TempDirectory _directory = new();

    public void Dispose() => this._directory.Dispose();

    [Fact]
    public async Task TheEnvironmentOverridesTheFileAndTheOptionsOverrideBoth()
    {
        // Three stores, each with a collection of four passages that all hold the query word, so "top" is the hit count.
        var stores = new Dictionary<string, string>();
        foreach (string layer in (string[])["file", "env", "option"])
        {
            string docs = this._directory.Combine($"{layer}-docs");
            for (int i = 1; i <= 4; i++)
            {
                this._directory.Write($"{layer}-docs/lighthouse-{i}.md", $"# Lighthouse {i}\n\nThe {layer} lighthouse keeper number {i} lit the lamp before the storm.\n");
            }

            stores[layer] = this._directory.Combine($"{layer}-store");
            var (indexed, _, indexError) = await CliRunner.RunAsync("index", docs, "--store", stores[layer], "--collection", layer, "--model", TestAssets.MiniLmDirectory);
            Assert.True(indexed == ExitCodes.Success, indexError);
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        string work = this._directory.Combine("work");
        this._directory.Write("work/t5rag.json", JsonSerializer.Serialize(new
        {
            model = TestAssets.MiniLmDirectory,
            store = stores["file"],
            collection = "file",
            search = new { mode = "dense", top = 1 },
        }));
        var environment = new Dictionary<string, string> { ["T5RAG_STORE"] = stores["env"], ["T5RAG_COLLECTION"] = "env", ["T5RAG_SEARCH_MODE"] = "keyword", ["T5RAG_SEARCH_TOP"] = "2" };
        var standard = new Dictionary<string, string> { ["T5RAG_STORE"] = stores["env"], ["T5RAG_COLLECTION"] = "env", ["T5RAG_SEARCH__MODE"] = "keyword", ["T5RAG_SEARCH__TOP"] = "2" };

        // The file alone (found in the working directory): its store and collection, dense, one hit.
        Assert.Equal(("file", 1, true, false), await SearchAsync(NoVariables, work));

        // The environment over the file: its store and collection, keyword search, two hits; the standard names the same.
        Assert.Equal(("env", 2, false, true), await SearchAsync(environment, work));
        Assert.Equal(("env", 2, false, true), await SearchAsync(standard, work));

        // The options over both: hybrid (dense and keyword ranks), three hits.
        Assert.Equal(("option", 3, true, true), await SearchAsync(environment, work, "--store", stores["option"], "--collection", "option", "--mode", "hybrid", "--top", "3"));
    }

    [Theory]
    [InlineData("T5RAG_SEARCH_TOP", "abc", "is not a positive integer")]
    [InlineData("T5RAG_SEARCH__TOP", "abc", "is not a positive integer")]
    [InlineData("T5RAG_THREADS", "all", "is not a positive integer")]
    [InlineData("T5RAG_CHUNK_TOKENS", "0", "is not a positive integer")]
    [InlineData("T5RAG_OVERLAP_TOKENS", "-3", "is not a whole number of 0 or more")]
    [InlineData("T5RAG_SEARCH_MODE", "fuzzy", "is not a search mode (dense, keyword or hybrid)")]
    [InlineData("T5RAG_SEARCH_MODE", "dense, keyword", "is not a search mode (dense, keyword or hybrid)")]
    public async Task ABadVariableIsOneLineNamingItAndExitsAsBadInput(string variable, string value, string problem)
    {
        var (code, output, error) = await T5ragProcess.RunAsync(new Dictionary<string, string> { [variable] = value }, this._directory.Path, "collections", "list", "--store", this._directory.Combine("store"));

        Assert.Equal(ExitCodes.InputError, code);
        Assert.Empty(output);
        Assert.Equal($"t5rag: {variable}: \"{value}\" {problem}.", error.Trim());
    }

    [Fact]
    public async Task TheFlatAndTheStandardNameOfOneSettingMustAgree()
    {
        var both = new Dictionary<string, string> { ["T5RAG_SEARCH_TOP"] = "2", ["T5RAG_SEARCH__TOP"] = "3" };
        var (code, _, error) = await T5ragProcess.RunAsync(both, this._directory.Path, "collections", "list", "--store", this._directory.Combine("store"));

        Assert.Equal(ExitCodes.InputError, code);
        string line = error.Trim();
        Assert.StartsWith("t5rag: T5RAG_SEARCH__TOP: is \"3\" but T5RAG_SEARCH_TOP is \"2\"", line, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', line);

        var agree = new Dictionary<string, string> { ["T5RAG_SEARCH_TOP"] = "2", ["T5RAG_SEARCH__TOP"] = "2" };
        Assert.Equal(ExitCodes.Success, (await T5ragProcess.RunAsync(agree, this._directory.Path, "collections", "list", "--store", this._directory.Combine("store"))).ExitCode);
    }

    [Fact]
    public async Task T5RagConfigNamesASettingsFileInAnotherDirectory()
    {
        string store = this._directory.Combine("store");
        using (var opened = PassageStores.Open(store))
        {
            foreach (string name in (string[])["from-variable", "decoy"])
            {
                await opened.OpenOrCreateCollectionAsync(name, new CollectionSettings(4, "test-model"), TestContext.Current.CancellationToken);
            }
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        this._directory.Write("conf/kb.json", JsonSerializer.Serialize(new { store, collection = "from-variable" }));
        this._directory.Write("work/sub/t5rag.json", JsonSerializer.Serialize(new { store, collection = "decoy" }));
        string work = this._directory.Combine("work", "sub");
        var variable = new Dictionary<string, string> { ["T5RAG_CONFIG"] = Path.Combine("..", "..", "conf", "kb.json") };

        // T5RAG_CONFIG, relative to the working directory, wins over the working directory's t5rag.json; --config over both.
        Assert.Equal("collection: from-variable", await FirstLineAsync(variable, work, "collections", "info"));
        Assert.Equal("collection: decoy", await FirstLineAsync(NoVariables, work, "collections", "info"));
        Assert.Equal("collection: decoy", await FirstLineAsync(variable, work, "collections", "info", "--config", "t5rag.json"));

        var missing = new Dictionary<string, string> { ["T5RAG_CONFIG"] = Path.Combine("..", "..", "conf", "missing.json") };
        var (code, _, error) = await T5ragProcess.RunAsync(missing, work, "collections", "info");
        Assert.Equal(ExitCodes.InputError, code);
        Assert.StartsWith($"t5rag: {missing["T5RAG_CONFIG"]}: cannot be read as settings", error.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheQdrantServerAndKeyComeFromTheFileThenTheEnvironmentThenTheStoreOption()
    {
        await using var server = await FakeQdrantServer.StartAsync(TestContext.Current.CancellationToken);
        const string Unreachable = "qdrant://127.0.0.1:1";

        // The file alone names the server and its key.
        this._directory.Write("file-server/t5rag.json", JsonSerializer.Serialize(new { store = "qdrant", qdrant = new { url = server.Location, apiKey = "from-file" } }));
        Assert.Equal(ExitCodes.Success, (await T5ragProcess.RunAsync(NoVariables, this._directory.Combine("file-server"), "collections", "list")).ExitCode);
        Assert.All(KeysSent(server), key => Assert.Equal("from-file", key));

        // QDRANT_URL and QDRANT_API_KEY over a file that names another server and key.
        this._directory.Write("env-server/t5rag.json", JsonSerializer.Serialize(new { store = "qdrant", qdrant = new { url = Unreachable, apiKey = "from-file" } }));
        var environment = new Dictionary<string, string> { ["QDRANT_URL"] = server.Location, ["QDRANT_API_KEY"] = "from-env" };
        var (code, _, error) = await T5ragProcess.RunAsync(environment, this._directory.Combine("env-server"), "collections", "list");
        Assert.True(code == ExitCodes.Success, error);
        Assert.All(KeysSent(server), key => Assert.Equal("from-env", key));

        // --store over QDRANT_URL; the key still the environment's.
        var elsewhere = new Dictionary<string, string> { ["QDRANT_URL"] = Unreachable, ["QDRANT_API_KEY"] = "from-env" };
        (code, _, error) = await T5ragProcess.RunAsync(elsewhere, this._directory.Combine("env-server"), "collections", "list", "--store", server.Location);
        Assert.True(code == ExitCodes.Success, error);
        Assert.All(KeysSent(server), key => Assert.Equal("from-env", key));
    }

    /// <summary>The api-key of every call since the last look (at least one call).</summary>
    private static IReadOnlyList<string?> KeysSent(FakeQdrantServer server)
    {
        var keys = server.ApiKeys();
        server.ClearCalls();
        Assert.NotEmpty(keys);
        return keys;
    }

    /// <summary>`search lighthouse --json`: which collection answered (by its documents' folder), how many hits, and whether they carry dense and keyword ranks.</summary>
    private static async Task<(string Layer, int Hits, bool Dense, bool Keyword)> SearchAsync(IReadOnlyDictionary<string, string> environment, string workingDirectory, params string[] options)
    {
        var (code, output, error) = await T5ragProcess.RunAsync(environment, workingDirectory, ["search", "lighthouse", "--json", .. options]);
        Assert.True(code == ExitCodes.Success, $"exit {code}: {error}");
        var hits = JsonDocument.Parse(output).RootElement.EnumerateArray().ToList();
        var layers = hits.Select(h => Path.GetFileName(Path.GetDirectoryName(h.GetProperty("source").GetString()))!).Distinct().ToList();
        return (
            Assert.Single(layers).Replace("-docs", "", StringComparison.Ordinal),
            hits.Count,
            hits.All(h => h.GetProperty("dense_rank").ValueKind == JsonValueKind.Number),
            hits.All(h => h.GetProperty("keyword_rank").ValueKind == JsonValueKind.Number));
    }

    private static async Task<string> FirstLineAsync(IReadOnlyDictionary<string, string> environment, string workingDirectory, params string[] args)
    {
        var (code, output, error) = await T5ragProcess.RunAsync(environment, workingDirectory, args);
        Assert.True(code == ExitCodes.Success, $"exit {code}: {error}");
        return output.Split('\n')[0].Trim();
    }
}
