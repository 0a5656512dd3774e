using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Cli.Commands;
using T5Gemma2.Rag.Cli.Configuration;
using T5Gemma2.Rag.Tests.Cli;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Stores;

/// <summary>The command line's Qdrant wiring that needs no server: settings, store locations, usage errors, the benchmark's refusal.</summary>
public sealed class QdrantCliTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => this._directory.Dispose();

    [Fact]
    public void TheSettingsFileNamesTheServer()
    {
        // The environment's QDRANT_URL and QDRANT_API_KEY over the file: SettingsEnvironmentTests, in child processes.
        SettingsVariables.SkipWhereSet();
        string path = this._directory.Write("t5rag.json", """{ "store": "qdrant", "qdrant": { "url": "qdrant://db:6334", "apiKey": "from-file" } }""");
        var fromFile = T5RagSettings.Load(NullLoggerFactory.Instance, path);
        Assert.Equal(("qdrant", "qdrant://db:6334", "from-file"), (fromFile.Store, fromFile.QdrantUrl, fromFile.QdrantApiKey));
        Assert.Equal("qdrant://db:6334", CollectionOptions.ResolveLocation(fromFile.Store, fromFile));
        Assert.Equal("/data/store", CollectionOptions.ResolveLocation("/data/store", fromFile));

        var none = T5RagSettings.Load(NullLoggerFactory.Instance, path: null);
        Assert.Null(none.QdrantUrl);
        Assert.Equal("qdrant", CollectionOptions.ResolveLocation("qdrant", none));

        string bad = this._directory.Write("bad.json", """{ "qdrant": "http://db:6334" }""");
        var ex = Assert.Throws<InputFileException>(() => T5RagSettings.Load(NullLoggerFactory.Instance, bad));
        Assert.Contains("\"qdrant\"", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ShardsAndReplicasNeedAQdrantStore()
    {
        string docs = this._directory.Write("docs/a.md", "# A\n\ntext");
        var (code, _, error) = await CliRunner.RunAsync("index", docs, "--store", this._directory.Combine("store"), "--shards", "2");
        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Contains("--shards and --replicas lay out a Qdrant collection", error, StringComparison.Ordinal);

        var (zero, _, _) = await CliRunner.RunAsync("index", docs, "--store", "qdrant://127.0.0.1:1", "--replicas", "0");
        Assert.Equal(ExitCodes.UsageError, zero);
    }

    [Fact]
    public async Task AMalformedStoreUrlIsAUsageError()
    {
        var (code, _, error) = await CliRunner.RunAsync("search", "words", "--store", "qdrant://db:6334/kb", "--mode", "keyword");
        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Contains("unexpected path", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheBenchmarkWithoutAServerSaysSoInOneLineAndExitsUnavailable()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var (code, output, error) = await CliRunner.RunAsync("bench", "qdrant", "--url", $"http://127.0.0.1:{port}", "--points", "10");
        Assert.Equal(ExitCodes.Unavailable, code);
        Assert.Empty(CliRunner.AfterBenchHeader(output).Trim());
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => !l.StartsWith("t5rag: warning: ", StringComparison.Ordinal));
        Assert.StartsWith($"t5rag bench qdrant: cannot reach Qdrant at http://127.0.0.1:{port}/", line, StringComparison.Ordinal);
        Assert.Contains("compose/docker-compose.yml", line, StringComparison.Ordinal);
        Assert.Contains($"t5rag: warning: Qdrant health check at http://127.0.0.1:{port}/ failed with Unavailable", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SearchingAnUnreachableServerIsOneLineAndExitsUnavailable()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        // Each retry is a warning on stderr (the client's own error per call is not repeated); the failure is one line.
        var (code, _, error) = await CliRunner.RunAsync("search", "words", "--store", $"qdrant://127.0.0.1:{port}?collection=kb", "--mode", "keyword");
        Assert.Equal(ExitCodes.Unavailable, code);
        string[] lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string line = Assert.Single(lines, l => !l.StartsWith("t5rag: warning: ", StringComparison.Ordinal));
        Assert.Contains($"cannot reach Qdrant at http://127.0.0.1:{port}/", line, StringComparison.Ordinal);
        Assert.Contains(lines, l => l.StartsWith($"t5rag: warning: Qdrant look up collection kb at http://127.0.0.1:{port}/ failed with Unavailable", StringComparison.Ordinal));

        var (quiet, _, quietError) = await CliRunner.RunAsync("search", "words", "--store", $"qdrant://127.0.0.1:{port}?collection=kb", "--mode", "keyword", "--quiet");
        Assert.Equal(ExitCodes.Unavailable, quiet);
        Assert.Contains($"cannot reach Qdrant at http://127.0.0.1:{port}/", Assert.Single(quietError.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }
}
