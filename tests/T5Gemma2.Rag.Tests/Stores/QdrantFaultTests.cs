using Grpc.Core;
using Qdrant.Client.Grpc;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Tests.Stores.QdrantFake;
using static T5Gemma2.Rag.Tests.Stores.QdrantFake.FakeQdrantData;

namespace T5Gemma2.Rag.Tests.Stores;

/// <summary>
/// Qdrant's real error statuses, replayed by the fake server, and what the store makes of them: transient ones
/// retried (then success, or one line saying the server cannot be reached), replies lost after the server acted,
/// a collection created meanwhile, a collection gone, a vector of the wrong size, a refused key, a server that does
/// not answer in time. Retries are a few milliseconds apart here; the one deadline is a second.
/// </summary>
public sealed class QdrantFaultTests : IAsyncLifetime
{
    private const string Unavailable = "Service is unavailable";
    private FakeQdrantServer _server = null!;

    public async ValueTask InitializeAsync() => this._server = await FakeQdrantServer.StartAsync(TestContext.Current.CancellationToken);

    public ValueTask DisposeAsync() => this._server.DisposeAsync();

    [Fact]
    public async Task TransientFailuresAreRetriedUntilTheServerAnswers()
    {
        var ct = TestContext.Current.CancellationToken;
        using var store = this._server.Connect();
        var collection = await this.CollectionWithOneDocumentAsync(store);
        this._server.ClearCalls();
        this._server.Fail("Points/Query", StatusCode.Unavailable, Unavailable);
        this._server.Fail("Points/Query", StatusCode.DeadlineExceeded, "Timeout error: Operation 'search' timed out");
        this._server.Fail("Points/Query", StatusCode.ResourceExhausted, "Too many requests");

        var hits = await collection.SearchAsync(new SearchRequest(SearchMode.Dense, 3) { Vector = Axis(0) }, ct);

        Assert.Equal("docs/a.md", Assert.Single(hits).Passage.DocumentId);
        Assert.Equal(4, this._server.Requests<QueryPoints>().Count);
    }

    [Fact]
    public async Task AServerStillUnavailableAfterTheRetriesIsOneLineSayingSo()
    {
        var ct = TestContext.Current.CancellationToken;
        using var store = this._server.Connect();
        var collection = await this.CollectionWithOneDocumentAsync(store);
        this._server.ClearCalls();
        this._server.Fail("Points/Query", StatusCode.Unavailable, Unavailable, times: 10);

        var ex = await Assert.ThrowsAsync<StoreException>(() => collection.SearchAsync(new SearchRequest(SearchMode.Dense, 3) { Vector = Axis(0) }, ct));

        Assert.Equal(4, this._server.Requests<QueryPoints>().Count);
        Assert.Equal($"cannot reach Qdrant at {this._server.Endpoint} (Unavailable: {Unavailable}); is it running? (compose/docker-compose.yml)", ex.Message);
    }

    [Fact]
    public async Task ACreateWhoseReplyWasLostFindsTheCollectionOnItsRetry()
    {
        var ct = TestContext.Current.CancellationToken;
        using var store = this._server.Connect();
        this._server.Fail("Collections/Create", StatusCode.Unavailable, Unavailable, applied: true);

        using var collection = await store.OpenOrCreateCollectionAsync("kb", Settings, ct);

        // The retry met Qdrant's AlreadyExists, and the store opened what its first attempt had made.
        Assert.Equal(2, this._server.Requests<CreateCollection>().Count);
        Assert.Equal(["kb"], await store.ListCollectionsAsync(ct));
        Assert.Equal(5, this._server.Requests<CreateFieldIndexCollection>().Count);
        await collection.UpsertDocumentsAsync([Document("docs/a.md", null, ("rockets", Axis(0)))], ct);
        Assert.Equal(1, (await collection.GetInfoAsync(ct)).Passages);
    }

    [Theory]
    [InlineData(StatusCode.AlreadyExists)]
    [InlineData(StatusCode.InvalidArgument)]
    public async Task ACollectionCreatedMeanwhileByAnotherClientIsOpened(StatusCode status)
    {
        var ct = TestContext.Current.CancellationToken;
        using var store = this._server.Connect();

        // Another client's create landed between our lookup and ours; Qdrant versions differ in the status they give.
        this._server.Fail("Collections/Create", status, "Wrong input: Collection `kb` already exists!", applied: true);

        using var collection = await store.OpenOrCreateCollectionAsync("kb", Settings, ct);

        Assert.Single(this._server.Requests<CreateCollection>());
        Assert.Equal(Settings, collection.Settings);
    }

    [Fact]
    public async Task AnUpsertWhoseReplyWasLostIsRetriedWithoutDuplicates()
    {
        var ct = TestContext.Current.CancellationToken;
        using var store = this._server.Connect();
        var collection = await store.OpenOrCreateCollectionAsync("kb", Settings, ct);
        this._server.Fail("Points/Upsert", StatusCode.Unavailable, Unavailable, times: 2, applied: true);

        await collection.UpsertDocumentsAsync([Document("docs/a.md", null, ("rockets", Axis(0)), ("fuel", Axis(1)))], ct);

        Assert.Equal((1, 2), ((await collection.GetInfoAsync(ct)).Documents, (await collection.GetInfoAsync(ct)).Passages));
        Assert.Equal("hash-of-docs/a.md", (await collection.GetDocumentsAsync(ct))["docs/a.md"].ContentHash);
    }

    [Fact]
    public async Task ACollectionDeletedUnderneathIsNamedAndNotRetried()
    {
        var ct = TestContext.Current.CancellationToken;
        using var store = this._server.Connect();
        var collection = await this.CollectionWithOneDocumentAsync(store);
        this._server.RemoveCollection("kb");
        this._server.ClearCalls();

        var ex = await Assert.ThrowsAsync<StoreException>(() => collection.SearchAsync(new SearchRequest(SearchMode.Keyword, 3) { Text = "rockets" }, ct));

        Assert.Single(this._server.Requests<QueryPoints>());
        Assert.Equal($"Qdrant at {this._server.Endpoint}: Keyword search (kb) failed (NotFound: Not found: Collection `kb` doesn't exist!).", ex.Message);
        Assert.Null(await store.OpenCollectionAsync("kb", ct));
    }

    [Fact]
    public async Task AVectorOfTheWrongSizeIsRefusedByTheServerInOneLine()
    {
        var ct = TestContext.Current.CancellationToken;
        using var store = this._server.Connect();

        // The collection's metadata says 8 dimensions (what the store checks), its vectors are 4 (what the server checks).
        this._server.AddCollection(new CreateCollection
        {
            CollectionName = "kb",
            VectorsConfig = new VectorsConfig { ParamsMap = new VectorParamsMap { Map = { ["dense"] = new VectorParams { Size = 4, Distance = Distance.Cosine } } } },
            SparseVectorsConfig = new SparseVectorConfig { Map = { ["bm25"] = new SparseVectorParams { Modifier = Modifier.Idf } } },
            Metadata = { ["t5rag_schema"] = 1L, ["t5rag_model_id"] = Settings.ModelId, ["t5rag_dimensions"] = (long)Dimensions },
        });
        var collection = await store.OpenOrCreateCollectionAsync("kb", Settings, ct);
        this._server.ClearCalls();

        var search = await Assert.ThrowsAsync<StoreException>(() => collection.SearchAsync(new SearchRequest(SearchMode.Dense, 3) { Vector = Axis(0) }, ct));
        var upsert = await Assert.ThrowsAsync<StoreException>(() => collection.UpsertDocumentsAsync([Document("docs/a.md", null, ("rockets", Axis(0)))], ct));

        Assert.Equal($"Qdrant at {this._server.Endpoint}: Dense search (kb) failed (InvalidArgument: Wrong input: Vector dimension error: expected dim: 4, got 8).", search.Message);
        Assert.Contains("expected dim: 4, got 8", upsert.Message, StringComparison.Ordinal);
        Assert.Single(this._server.Requests<QueryPoints>());
        Assert.Single(this._server.Requests<UpsertPoints>());
    }

    [Fact]
    public async Task ARefusedApiKeyNamesTheSettingToFix()
    {
        var ct = TestContext.Current.CancellationToken;
        using var store = this._server.Connect();
        this._server.Fail("Collections/List", StatusCode.Unauthenticated, "Invalid api-key");

        var ex = await Assert.ThrowsAsync<StoreException>(() => store.ListCollectionsAsync(ct));

        Assert.StartsWith($"Qdrant at {this._server.Endpoint} refused the API key (Invalid api-key); set QDRANT_API_KEY", ex.Message, StringComparison.Ordinal);
        Assert.Single(this._server.Requests<ListCollectionsRequest>());
    }

    [Fact]
    public async Task AServerThatDoesNotAnswerInTimeIsReportedAsSlowNotAbsent()
    {
        var ct = TestContext.Current.CancellationToken;
        using var store = this._server.Connect(o => o with { RequestTimeout = TimeSpan.FromSeconds(1), MaxRetryAttempts = 1 });
        var collection = await this.CollectionWithOneDocumentAsync(store);
        this._server.Fail("Points/Query", StatusCode.Unavailable, "never sent", times: 2, hang: true);

        var ex = await Assert.ThrowsAsync<StoreException>(() => collection.SearchAsync(new SearchRequest(SearchMode.Dense, 3) { Vector = Axis(0) }, ct));

        // It was reached, so "is it running?" would mislead: the message says it did not answer within the deadline.
        Assert.Equal($"Qdrant at {this._server.Endpoint} did not answer Dense search (kb) within 1 s (DeadlineExceeded); it may be overloaded or optimizing: try again later.", ex.Message);
    }

    private async Task<IPassageCollection> CollectionWithOneDocumentAsync(IPassageStore store)
    {
        var collection = await store.OpenOrCreateCollectionAsync("kb", Settings, TestContext.Current.CancellationToken);
        await collection.UpsertDocumentsAsync([Document("docs/a.md", null, ("rockets and fuel", Axis(0)))], TestContext.Current.CancellationToken);
        return collection;
    }
}
