using Grpc.Core;
using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Tests.Cli;
using T5Gemma2.Rag.Tests.Infrastructure;
using T5Gemma2.Rag.Tests.Stores.QdrantFake;

namespace T5Gemma2.Rag.Tests.Stores;

/// <summary>
/// t5rag index and search against the in-process fake Qdrant server (<c>--store qdrant://127.0.0.1:port</c>), with
/// Qdrant's error statuses replayed: the message a user reads and the exit code a script sees. The CLI uses the
/// store's default retries (about 4 s in all before it gives up on a transient failure).
/// </summary>
public sealed class QdrantCliServerTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private FakeQdrantServer _server = null!;

    private string Store => $"{this._server.Location}?collection=kb";

    public async ValueTask InitializeAsync() => this._server = await FakeQdrantServer.StartAsync(TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        await this._server.DisposeAsync();
        this._directory.Dispose();
    }

    [Fact]
    public async Task IndexAndSearchWorkThroughTheServerAndSurviveTransientFailures()
    {
        await this.IndexAsync();
        this._server.Fail("Points/QueryBatch", StatusCode.Unavailable, "Service is unavailable", times: 2);

        var (code, output, error) = await CliRunner.RunAsync("search", "How do rockets carry fuel?", "--store", this.Store, "--model", TestAssets.MiniLmDirectory, "--top", "1");

        Assert.True(code == ExitCodes.Success, error);
        Assert.Contains("rockets.md", output, StringComparison.Ordinal);
        Assert.Equal(3, this._server.Requests<global::Qdrant.Client.Grpc.QueryBatchPoints>().Count);
    }

    [Fact]
    public async Task AMissingCollectionIsAUsageErrorNamingIt()
    {
        var (code, _, error) = await CliRunner.RunAsync("search", "rockets", "--store", this.Store, "--mode", "keyword");

        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Equal($"t5rag: no collection 'kb' in {this._server.Location}; index into it first (t5rag index <paths> --collection kb).", error.Trim());
    }

    [Fact]
    public async Task AServerUnavailableThroughEveryRetryExitsUnavailable()
    {
        this._server.Fail("Collections/CollectionExists", StatusCode.Unavailable, "Service is unavailable", times: 20);

        var (code, _, error) = await CliRunner.RunAsync("search", "rockets", "--store", this.Store, "--mode", "keyword");

        Assert.Equal(ExitCodes.Unavailable, code);
        Assert.Equal($"t5rag: cannot reach Qdrant at {this._server.Endpoint} (Unavailable: Service is unavailable); is it running? (compose/docker-compose.yml)", FailureLine(error));
        Assert.Contains(error.Split('\n'), l => l.StartsWith("t5rag: warning: Qdrant look up collection kb", StringComparison.Ordinal)); // each retry
    }

    [Fact]
    public async Task AServerThatKeepsTimingOutExitsUnavailableSayingItDidNotAnswer()
    {
        await this.IndexAsync();
        this._server.Fail("Points/Query", StatusCode.DeadlineExceeded, "Timeout error: Operation 'search' timed out after 30 seconds", times: 20);

        var (code, _, error) = await CliRunner.RunAsync("search", "rockets", "--store", this.Store, "--mode", "keyword");

        Assert.Equal(ExitCodes.Unavailable, code);
        Assert.StartsWith($"t5rag: Qdrant at {this._server.Endpoint} did not answer Keyword search (kb) within 30 s (DeadlineExceeded: Timeout error: Operation 'search' timed out after 30 seconds)", FailureLine(error), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACollectionDeletedDuringTheSearchExitsAsAStoreOfAnotherLayout()
    {
        await this.IndexAsync();
        this._server.Fail("Points/Query", StatusCode.NotFound, "Not found: Collection `kb` doesn't exist!");

        var (code, _, error) = await CliRunner.RunAsync("search", "rockets", "--store", this.Store, "--mode", "keyword");

        // Retrying cannot help, so it is not "unavailable" (5): the store is not what the command needs (3).
        Assert.Equal($"t5rag: Qdrant at {this._server.Endpoint}: Keyword search (kb) failed (NotFound: Not found: Collection `kb` doesn't exist!).", error.Trim());
        Assert.Equal(ExitCodes.InputError, code);
    }

    [Fact]
    public async Task VectorsOfTheWrongSizeOnTheServerExitAsAStoreOfAnotherLayout()
    {
        await this.IndexAsync();

        // The server's dense vectors are 8 wide though the collection's metadata says 384 (MiniLM's): Qdrant refuses the query.
        lock (this._server.Lock)
        {
            this._server.Collections["kb"].Create.VectorsConfig.ParamsMap.Map["dense"].Size = 8;
        }

        var (code, _, error) = await CliRunner.RunAsync("search", "rockets", "--store", this.Store, "--model", TestAssets.MiniLmDirectory, "--mode", "dense");

        Assert.Equal($"t5rag: Qdrant at {this._server.Endpoint}: Dense search (kb) failed (InvalidArgument: Wrong input: Vector dimension error: expected dim: 8, got 384).", error.Trim());
        Assert.Equal(ExitCodes.InputError, code);
    }

    [Fact]
    public async Task ACollectionCreatedByAnotherIndexerMeanwhileIsIndexedInto()
    {
        this._server.Fail("Collections/Create", StatusCode.AlreadyExists, "Wrong input: Collection `kb` already exists!", applied: true);

        await this.IndexAsync();

        Assert.Single(this._server.Requests<global::Qdrant.Client.Grpc.CreateCollection>());
        var (code, output, _) = await CliRunner.RunAsync("collections", "info", "kb", "--store", this._server.Location);
        Assert.Equal(ExitCodes.Success, code);
        Assert.Contains("384", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IndexDefersIndexingOfANewCollectionToTheEndAndRepairsIndexingAKilledRunLeftOff()
    {
        var ct = TestContext.Current.CancellationToken;
        await this.IndexAsync();
        Assert.Equal([0ul, 16ul], this._server.Requests<global::Qdrant.Client.Grpc.UpdateCollection>().Select(u => u.HnswConfig.M));

        // A run killed inside its bulk load leaves m = 0: here, a bulk load begun and never ended.
        using (var store = this._server.Connect())
        {
            var collection = (global::T5Gemma2.Rag.Indexer.Stores.Qdrant.QdrantPassageCollection)(await store.OpenCollectionAsync("kb", ct))!;
            await collection.BeginBulkLoadAsync(ct);
        }

        this._server.ClearCalls();
        var (code, _, error) = await CliRunner.RunAsync("index", this._directory.Combine("docs"), "--store", this._server.Location, "--collection", "kb", "--model", TestAssets.MiniLmDirectory);

        Assert.True(code == ExitCodes.Success, error);
        Assert.Contains("t5rag: HNSW indexing of 'kb' had been left off by an interrupted bulk load; turned it back on.", error.Split('\n').Select(l => l.Trim()));
        Assert.Equal([16ul], this._server.Requests<global::Qdrant.Client.Grpc.UpdateCollection>().Select(u => u.HnswConfig.M));
    }

    private async Task IndexAsync()
    {
        string docs = this._directory.Write("docs/rockets.md", "# Rockets\n\nRockets carry their fuel and oxidizer; the engine burns both.");
        this._directory.Write("docs/bread.md", "# Bread\n\nBread needs flour, water, salt and time.");
        var (code, _, error) = await CliRunner.RunAsync("index", Path.GetDirectoryName(docs)!, "--store", this._server.Location, "--collection", "kb", "--model", TestAssets.MiniLmDirectory);
        Assert.True(code == ExitCodes.Success, error);
    }

    /// <summary>The one line that is not a retry warning (the CLI logs each retry to stderr before the failure).</summary>
    private static string FailureLine(string error) =>
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => !l.StartsWith("t5rag: warning: ", StringComparison.Ordinal)).Trim();
}
