using Grpc.Core;
using Qdrant.Client.Grpc;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Indexer.Stores.Qdrant;
using T5Gemma2.Rag.Tests.Stores.QdrantFake;
using static T5Gemma2.Rag.Tests.Stores.QdrantFake.FakeQdrantData;

namespace T5Gemma2.Rag.Tests.Stores;

/// <summary>
/// What the Qdrant store sends, as the in-process fake server receives it: the collection's layout, the writes and
/// their order, every filter kind in every search mode, the hybrid query's prefetches and fusion, and paging. The
/// expected requests are written out here by hand, in Qdrant's field names, not derived from the store's code.
/// </summary>
public sealed class QdrantRequestTests : IAsyncLifetime
{
    private FakeQdrantServer _server = null!;

    public async ValueTask InitializeAsync() => this._server = await FakeQdrantServer.StartAsync(TestContext.Current.CancellationToken);

    public ValueTask DisposeAsync() => this._server.DisposeAsync();

    [Fact]
    public async Task ANewCollectionIsCreatedAsConfiguredWithItsPayloadIndexesOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        using var store = this._server.Connect(o => o with
        {
            CollectionPrefix = "t_", Shards = 3, Replicas = 2, WriteConsistencyFactor = 2, OnDiskVectors = true, ScalarQuantization = true,
            HnswM = 24, HnswEfConstruct = 200, TenantTag = "team",
        });
        using (await store.OpenOrCreateCollectionAsync("kb", Settings, ct))
        {
        }

        var create = Assert.Single(this._server.Requests<CreateCollection>());
        Assert.Equal("t_kb", create.CollectionName);
        var dense = Assert.Single(create.VectorsConfig.ParamsMap.Map);
#pragma warning disable CS0612 // on_disk / always_ram: the fields the store sends for servers before 1.20
        Assert.Equal(("dense", 8ul, Distance.Cosine, true), (dense.Key, dense.Value.Size, dense.Value.Distance, dense.Value.OnDisk));
        Assert.Equal((QuantizationType.Int8, 0.99f, true), (create.QuantizationConfig.Scalar.Type, create.QuantizationConfig.Scalar.Quantile, create.QuantizationConfig.Scalar.AlwaysRam));
#pragma warning restore CS0612
        var sparse = Assert.Single(create.SparseVectorsConfig.Map);
        Assert.Equal(("bm25", Modifier.Idf), (sparse.Key, sparse.Value.Modifier));
        Assert.Equal((3u, 2u, 2u), (create.ShardNumber, create.ReplicationFactor, create.WriteConsistencyFactor));
        Assert.Equal((24ul, 200ul), (create.HnswConfig.M, create.HnswConfig.EfConstruct));
        Assert.Equal((1L, "fake-model", 8L), (create.Metadata["t5rag_schema"].IntegerValue, create.Metadata["t5rag_model_id"].StringValue, create.Metadata["t5rag_dimensions"].IntegerValue));
        Assert.InRange(DateTimeOffset.FromUnixTimeMilliseconds(create.Metadata["t5rag_created_at"].IntegerValue), DateTimeOffset.UtcNow.AddMinutes(-10), DateTimeOffset.UtcNow);

        var indexes = this._server.Requests<CreateFieldIndexCollection>();
        Assert.Equal(
            [("kind", FieldType.Keyword), ("doc_id", FieldType.Keyword), ("source_dirs", FieldType.Keyword), ("tag_pairs", FieldType.Keyword), ("indexed_at", FieldType.Integer), ("tenant", FieldType.Keyword)],
            indexes.Select(i => (i.FieldName, i.FieldType)));
        Assert.True(indexes.Single(i => i.FieldName == "tenant").FieldIndexParams.KeywordIndexParams.IsTenant);
        Assert.All(indexes, i => Assert.True(i.Wait));

        // Opened again: nothing is created twice.
        this._server.ClearCalls();
        using (await store.OpenOrCreateCollectionAsync("kb", Settings, ct))
        {
        }

        Assert.Empty(this._server.Requests<CreateCollection>());
        Assert.Empty(this._server.Requests<CreateFieldIndexCollection>());

        // The defaults: one shard, one copy, vectors in RAM, no quantization.
        using var plain = this._server.Connect();
        using (await plain.OpenOrCreateCollectionAsync("plain", Settings, ct))
        {
        }

        var defaults = Assert.Single(this._server.Requests<CreateCollection>());
#pragma warning disable CS0612 // as above
        Assert.Equal((1u, 1u, 1u, 16ul, false), (defaults.ShardNumber, defaults.ReplicationFactor, defaults.WriteConsistencyFactor, defaults.HnswConfig.M, defaults.VectorsConfig.ParamsMap.Map["dense"].OnDisk));
#pragma warning restore CS0612
        Assert.Null(defaults.QuantizationConfig);
        Assert.DoesNotContain(this._server.Requests<CreateFieldIndexCollection>(), i => i.FieldName == "tenant");
    }

    [Fact]
    public async Task WritesArriveInCrashSafeOrderWithEveryPayloadFieldInCappedBatches()
    {
        var ct = TestContext.Current.CancellationToken;
        using var store = this._server.Connect(o => o with { BatchMaxPoints = 3, TenantTag = "team", WriteOrdering = WriteOrderingType.Strong });
        var collection = await store.OpenOrCreateCollectionAsync("kb", Settings, ct);
        var tags = new Dictionary<string, string> { ["team"] = "red", ["lang"] = "en" };
        var update = Document("docs/guide.md", tags, [.. Enumerable.Range(0, 7).Select(i => ($"rockets need fuel, part {i}", Axis(i % Dimensions)))]);
        this._server.ClearCalls();
        await collection.UpsertDocumentsAsync([update], ct);

        // (0) records pending, (1) passages, (2) stale passages deleted, (3) records: a crash anywhere leaves a pending record.
        Assert.Equal(["Points/SetPayload", "Points/Upsert", "Points/Upsert", "Points/Upsert", "Points/UpdateBatch", "Points/Upsert"], this._server.Methods());
        var pending = Assert.Single(this._server.Requests<SetPayloadPoints>());
        Assert.Equal(string.Empty, Assert.Single(pending.Payload, p => p.Key == "content_hash").Value.StringValue);
        Assert.Equal(All(Keyword("kind", "document"), Keywords("doc_id", "docs/guide.md")), pending.PointsSelector.Filter);

        var upserts = this._server.Requests<UpsertPoints>();
        Assert.Equal([1, 3, 3], upserts.Take(3).Select(u => u.Points.Count).Order());
        Assert.All(upserts, u => Assert.Equal((true, WriteOrderingType.Strong), (u.Wait, u.Ordering.Type)));

        var stored = update.Passages[2].Passage;
        var point = upserts.Take(3).SelectMany(u => u.Points).Single(p => p.Id.Uuid == stored.Id);
        var payload = point.Payload;
        Assert.Equal(("passage", "docs/guide.md", "/kb/docs/guide.md", "rockets need fuel, part 2", stored.ContentHash), (payload["kind"].StringValue, payload["doc_id"].StringValue, payload["source"].StringValue, payload["text"].StringValue, payload["content_hash"].StringValue));
        Assert.Equal(["/", "/kb/", "/kb/docs/"], payload["source_dirs"].ListValue.Values.Select(v => v.StringValue));
        Assert.Equal(["lang=en", "team=red"], payload["tag_pairs"].ListValue.Values.Select(v => v.StringValue).Order(StringComparer.Ordinal));
        Assert.Equal(("red", "en"), (payload["tags"].StructValue.Fields["team"].StringValue, payload["tags"].StructValue.Fields["lang"].StringValue));
        Assert.Equal("red", payload["tenant"].StringValue);
        Assert.Equal(IndexedAt.ToUnixTimeMilliseconds(), payload["indexed_at"].IntegerValue);
        Assert.Equal(("Guide", "Intro > Setup", 3L, 20L, 25L, 2L, 3L), (payload["title"].StringValue, payload["section"].StringValue, payload["page"].IntegerValue, payload["start"].IntegerValue, payload["length"].IntegerValue, payload["chunk"].IntegerValue, payload["token_count"].IntegerValue));
        var vectors = point.Vectors.Vectors_.Vectors;
        Assert.Equal(["bm25", "dense"], vectors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(Axis(2), vectors["dense"].Dense.Data);
        Assert.NotEmpty(vectors["bm25"].Sparse.Indices);
        Assert.Equal(vectors["bm25"].Sparse.Indices.Count, vectors["bm25"].Sparse.Values.Count);

        var delete = Assert.Single(Assert.Single(this._server.Requests<UpdateBatchPoints>()).Operations).DeletePoints.Points.Filter;
        Assert.Equal(All(Keyword("doc_id", "docs/guide.md"), Keyword("kind", "passage")), new Filter { Must = { delete.Must } });
        Assert.Equal(update.Passages.Select(p => p.Passage.Id).Order(StringComparer.Ordinal), Assert.Single(delete.MustNot).HasId.HasId.Select(id => id.Uuid).Order(StringComparer.Ordinal));

        var record = Assert.Single(upserts[3].Points);
        Assert.Equal(("document", "docs/guide.md", "hash-of-docs/guide.md", 7L), (record.Payload["kind"].StringValue, record.Payload["doc_id"].StringValue, record.Payload["content_hash"].StringValue, record.Payload["passage_count"].IntegerValue));
        Assert.Empty(record.Vectors.Vectors_.Vectors);
    }

    [Fact]
    public async Task EveryFilterKindReachesTheServerInEveryMode()
    {
        var ct = TestContext.Current.CancellationToken;
        using var store = this._server.Connect(o => o with { TenantTag = "team" });
        var collection = await store.OpenOrCreateCollectionAsync("kb", Settings, ct);
        await collection.UpsertDocumentsAsync([Document("docs/a.md", new Dictionary<string, string> { ["team"] = "red", ["lang"] = "en" }, ("rockets and fuel", Axis(0)))], ct);
        var after = new DateTimeOffset(2026, 2, 1, 0, 0, 0, TimeSpan.Zero);
        (PassageFilter Filter, Filter Expected)[] cases =
        [
            (new PassageFilter { DocumentIds = ["docs/a.md"] }, All(Keyword("doc_id", "docs/a.md"))),
            (new PassageFilter { DocumentIds = ["docs/a.md", "docs/b.md"] }, All(Keywords("doc_id", "docs/a.md", "docs/b.md"))),
            (new PassageFilter { SourcePrefix = "/kb/docs/" }, All(Keyword("source_dirs", "/kb/docs/"))),
            (new PassageFilter { Tags = new Dictionary<string, string> { ["lang"] = "en" } }, All(Keyword("tag_pairs", "lang=en"))),
            (new PassageFilter { Tags = new Dictionary<string, string> { ["team"] = "red", ["lang"] = "en" } }, All(Keyword("tag_pairs", "lang=en"), Keyword("tenant", "red"))),
            (new PassageFilter { IndexedAfter = after }, All(AtLeast("indexed_at", after.ToUnixTimeMilliseconds()))),
            (new PassageFilter { DocumentIds = ["docs/a.md"], SourcePrefix = "/kb/", Tags = new Dictionary<string, string> { ["lang"] = "en" }, IndexedAfter = after },
                All(Keyword("doc_id", "docs/a.md"), Keyword("source_dirs", "/kb/"), Keyword("tag_pairs", "lang=en"), AtLeast("indexed_at", after.ToUnixTimeMilliseconds()))),
        ];
        foreach (var (filter, expected) in cases)
        {
            this._server.ClearCalls();
            var dense = await collection.SearchAsync(new SearchRequest(SearchMode.Dense, 5) { Vector = Axis(0), Filter = filter }, ct);
            var query = Assert.Single(this._server.Requests<QueryPoints>());
            Assert.Equal((expected, "dense", 5ul), (query.Filter, query.Using, query.Limit));
            Assert.Equal(Axis(0), query.Query.Nearest.Dense.Data);
            Assert.Equal("docs/a.md", Assert.Single(dense).Passage.DocumentId);

            this._server.ClearCalls();
            var keyword = await collection.SearchAsync(new SearchRequest(SearchMode.Keyword, 5) { Text = "rockets", Filter = filter }, ct);
            query = Assert.Single(this._server.Requests<QueryPoints>());
            Assert.Equal((expected, "bm25", 5ul, VectorInput.VariantOneofCase.Sparse), (query.Filter, query.Using, query.Limit, query.Query.Nearest.VariantCase));
            Assert.Equal("docs/a.md", Assert.Single(keyword).Passage.DocumentId);

            // Hybrid, fused on the server: dense and sparse prefetches under RRF (k + 1: Qdrant counts ranks from 0), then both rankings for the ranks.
            this._server.ClearCalls();
            var hybrid = await collection.SearchAsync(new SearchRequest(SearchMode.Hybrid, 5) { Vector = Axis(0), Text = "rockets", Filter = filter, HybridCandidates = 40 }, ct);
            var batch = Assert.Single(this._server.Requests<QueryBatchPoints>()).QueryPoints;
            Assert.Equal(3, batch.Count);
            Assert.Equal((61u, 5ul, expected), (batch[0].Query.Rrf.K, batch[0].Limit, batch[0].Filter));
            Assert.Equal([("dense", 40ul), ("bm25", 40ul)], batch[0].Prefetch.Select(p => (p.Using, p.Limit)));
            Assert.All(batch[0].Prefetch, p => Assert.Equal(expected, p.Filter));
            Assert.Equal([("dense", expected), ("bm25", expected)], batch.Skip(1).Select(q => (q.Using, q.Filter)));
            var hit = Assert.Single(hybrid);
            Assert.Equal(("docs/a.md", 1, 1), (hit.Passage.DocumentId, hit.DenseRank, hit.KeywordRank));

            // Convex fusion has no server equivalent: both rankings come back as ids, the winners' payloads are read after.
            this._server.ClearCalls();
            var convex = await collection.SearchAsync(new SearchRequest(SearchMode.Hybrid, 5) { Vector = Axis(0), Text = "rockets", Filter = filter, Fusion = FusionMethod.Convex }, ct);
            batch = Assert.Single(this._server.Requests<QueryBatchPoints>()).QueryPoints;
            Assert.Equal([("dense", expected, 0), ("bm25", expected, 0)], batch.Select(q => (q.Using, q.Filter, q.Prefetch.Count)));
            Assert.Equal("docs/a.md", Assert.Single(convex).Passage.DocumentId);
            Assert.Single(this._server.Requests<GetPoints>());
        }
    }

    [Fact]
    public async Task QuantizedSearchesRescoreAndEveryRequestCarriesTheConfiguredEf()
    {
        var ct = TestContext.Current.CancellationToken;
        using var store = this._server.Connect(o => o with { ScalarQuantization = true, QuantizationOversampling = 3, SearchEf = 77 });
        var collection = await store.OpenOrCreateCollectionAsync("kb", Settings, ct);
        this._server.ClearCalls();
        await collection.SearchAsync(new SearchRequest(SearchMode.Dense, 3) { Vector = Axis(1) }, ct);
        await collection.SearchAsync(new SearchRequest(SearchMode.Hybrid, 3) { Vector = Axis(1), Text = "fuel" }, ct);
        var expected = new SearchParams { HnswEf = 77, Quantization = new QuantizationSearchParams { Rescore = true, Oversampling = 3 } };
        Assert.Equal(expected, Assert.Single(this._server.Requests<QueryPoints>()).Params);
        var batch = Assert.Single(this._server.Requests<QueryBatchPoints>()).QueryPoints;
        Assert.Equal(expected, batch[0].Prefetch[0].Params);
        Assert.Null(batch[0].Prefetch[1].Params);
        Assert.Equal(expected, batch[1].Params);
        Assert.Null(batch[2].Params);
    }

    [Fact]
    public async Task AScrollReadsEveryPageFromTheOffsetTheServerGave()
    {
        var ct = TestContext.Current.CancellationToken;
        using var store = this._server.Connect();
        var collection = await store.OpenOrCreateCollectionAsync("kb", Settings, ct);
        await collection.UpsertDocumentsAsync([.. Enumerable.Range(0, 1100).Select(d => Document($"d{d}.md", null, ($"text {d}", Axis(d % Dimensions))))], ct);
        this._server.ClearCalls();

        var documents = await collection.GetDocumentsAsync(ct);

        Assert.Equal(1100, documents.Count);
        var scrolls = this._server.Requests<ScrollPoints>();
        Assert.Equal(3, scrolls.Count);
        Assert.Null(scrolls[0].Offset);
        Assert.NotNull(scrolls[1].Offset);
        Assert.NotEqual(scrolls[1].Offset, scrolls[2].Offset);
        Assert.All(scrolls, s => Assert.Equal((512u, All(Keyword("kind", "document"))), (s.Limit, s.Filter)));
    }

    [Fact]
    public async Task OneDocumentIsReadWithOneRequestAndAHostCheckScrollsNoRecords()
    {
        var ct = TestContext.Current.CancellationToken;
        using var store = this._server.Connect();
        var collection = await store.OpenOrCreateCollectionAsync("kb", Settings, ct);
        await collection.UpsertDocumentsAsync([.. Enumerable.Range(0, 600).Select(d => Document($"tenant-b/{d}.md", null, ($"text {d}", Axis(d % Dimensions))))], ct);
        this._server.ClearCalls();

        var record = await collection.GetDocumentAsync("tenant-b/7.md", ct);
        Assert.Equal(("tenant-b/7.md", "/kb/tenant-b/7.md", "hash-of-tenant-b/7.md", 1), (record?.DocumentId, record?.Source, record?.ContentHash, record?.PassageCount));
        var get = Assert.Single(this._server.Requests<GetPoints>());
        Assert.Single(get.Ids);
        Assert.Empty(this._server.Requests<ScrollPoints>());

        // The plugin's check before replacing or forgetting a document: a host limited to tenant A refuses tenant B's
        // document after reading that one record, not all 600 (which it did through GetDocumentsAsync).
        this._server.ClearCalls();
        var scope = new T5Gemma2.Rag.SemanticKernel.HostScope(new PassageFilter { SourcePrefix = "/kb/tenant-a/" });
        Assert.Equal("document 'tenant-b/7.md' is outside what this knowledge base may change.", await scope.RefuseExistingAsync(collection, "tenant-b/7.md", ct));
        Assert.Null(await scope.RefuseExistingAsync(collection, "tenant-a/new.md", ct));
        Assert.Equal(2, this._server.Requests<GetPoints>().Count);
        Assert.Empty(this._server.Requests<ScrollPoints>());
    }

    [Fact]
    public async Task ABulkWriteDefersIndexingOfAnEmptyCollectionAndRepairsIndexingLeftOff()
    {
        var ct = TestContext.Current.CancellationToken;
        using var store = this._server.Connect(o => o with { HnswM = 20 });
        IPassageCollection collection = await store.OpenOrCreateCollectionAsync("kb", Settings, ct);

        // Empty: indexing off for the run, back on with the collection's m at its end; nothing to tell the user.
        this._server.ClearCalls();
        await using (var session = await collection.BeginBulkWriteAsync(cancellationToken: ct))
        {
            Assert.Equal([0ul], this._server.Requests<UpdateCollection>().Select(u => u.HnswConfig.M));
            await collection.UpsertDocumentsAsync([Document("docs/a.md", null, ("rockets", Axis(0)))], ct);
            await session.EndAsync(ct);
            Assert.Null(session.Notice);
        }

        Assert.Equal([0ul, 20ul], this._server.Requests<UpdateCollection>().Select(u => u.HnswConfig.M));

        // Not empty, indexing on: the collection is left as it is.
        this._server.ClearCalls();
        await using (var session = await collection.BeginBulkWriteAsync(cancellationToken: ct))
        {
            Assert.Null(session.Notice);
        }

        Assert.Empty(this._server.Requests<UpdateCollection>());

        // A run killed inside its bulk load left m = 0: the next run's session turns indexing back on and says so.
        await ((QdrantPassageCollection)collection).BeginBulkLoadAsync(ct);
        this._server.ClearCalls();
        await using (var session = await collection.BeginBulkWriteAsync(cancellationToken: ct))
        {
            Assert.Equal("HNSW indexing of 'kb' had been left off by an interrupted bulk load; turned it back on.", session.Notice);
        }

        Assert.Equal([20ul], this._server.Requests<UpdateCollection>().Select(u => u.HnswConfig.M));
    }

    [Fact]
    public async Task ABulkWriteThatFailsStillTurnsIndexingBackOn()
    {
        var ct = TestContext.Current.CancellationToken;
        using var store = this._server.Connect(o => o with { HnswM = 20 });
        IPassageCollection collection = await store.OpenOrCreateCollectionAsync("kb", Settings, ct);
        this._server.ClearCalls();
        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var session = await collection.BeginBulkWriteAsync(cancellationToken: ct);
            throw new InvalidOperationException("the run failed");
        });

        Assert.Equal([0ul, 20ul], this._server.Requests<UpdateCollection>().Select(u => u.HnswConfig.M));
    }

    [Fact]
    public async Task APrefixInsideADirectoryNamePagesThroughTheRankingUntilEnoughHitsPass()
    {
        var ct = TestContext.Current.CancellationToken;
        using var store = this._server.Connect();
        var collection = await store.OpenOrCreateCollectionAsync("kb", Settings, ct);

        // 150 passages under /kb/other/ rank above the two under /kb/docs-old/, which alone start with "/kb/doc".
        var near = Axis(0, 0.01f);
        await collection.UpsertDocumentsAsync(
        [
            .. Enumerable.Range(0, 150).Select(d => Document($"other/{d}.md", null, ("fuel", near))),
            Document("docs-old/a.md", null, ("fuel", Axis(1))),
            Document("docs-old/b.md", null, ("fuel", Axis(2))),
        ], ct);
        this._server.ClearCalls();

        var hits = await collection.SearchAsync(new SearchRequest(SearchMode.Dense, 2) { Vector = Axis(0), Filter = new PassageFilter { SourcePrefix = "/kb/doc" } }, ct);

        Assert.Equal(["docs-old/a.md", "docs-old/b.md"], hits.Select(h => h.Passage.DocumentId).Order(StringComparer.Ordinal));
        var pages = this._server.Requests<QueryPoints>();
        Assert.Equal([(0ul, 64ul), (64ul, 64ul), (128ul, 64ul)], pages.Select(p => (p.Offset, p.Limit)));
        Assert.All(pages, p => Assert.Equal(All(Keyword("source_dirs", "/kb/")), p.Filter));
    }

    [Fact]
    public async Task TheApiKeyTravelsWithEveryCallAndABulkLoadTurnsIndexingOffAndBackOn()
    {
        var ct = TestContext.Current.CancellationToken;
        using var store = this._server.Connect(o => o with { ApiKey = "secret-key", HnswM = 20 });
        var collection = (QdrantPassageCollection)await store.OpenOrCreateCollectionAsync("kb", Settings, ct);
        await using (var bulk = await collection.BeginBulkLoadAsync(ct))
        {
            await collection.UpsertDocumentsAsync([Document("docs/a.md", null, ("rockets", Axis(0)))], ct);
        }

        Assert.Equal([0ul, 20ul], this._server.Requests<UpdateCollection>().Select(u => u.HnswConfig.M));
        Assert.False(await collection.EnsureIndexingOnAsync(ct));

        // A run killed inside its bulk load left m = 0: the next one turns indexing back on.
        await collection.BeginBulkLoadAsync(ct);
        Assert.True(await collection.EnsureIndexingOnAsync(ct));
        Assert.Equal(20ul, this._server.Requests<UpdateCollection>()[^1].HnswConfig.M);

        var keys = this._server.ApiKeys();
        Assert.NotEmpty(keys);
        Assert.All(keys, k => Assert.Equal("secret-key", k));
    }

    [Fact]
    public async Task ListingSkipsForeignCollectionsAndOnesDeletedWhileListing()
    {
        var ct = TestContext.Current.CancellationToken;
        using var store = this._server.Connect(o => o with { CollectionPrefix = "team_" });
        foreach (string name in new[] { "a", "b", "c" })
        {
            using (await store.OpenOrCreateCollectionAsync(name, Settings, ct))
            {
            }
        }

        // Not t5rag's (no metadata), outside the prefix, and one that vanishes between the listing and its description
        // (the first described, in name order).
        this._server.AddCollection(new CreateCollection { CollectionName = "team_foreign" });
        this._server.AddCollection(new CreateCollection { CollectionName = "other_a", Metadata = { ["t5rag_schema"] = 1L } });
        this._server.Fail("Collections/Get", StatusCode.NotFound, "Not found: Collection `team_a` doesn't exist!");

        Assert.Equal(["b", "c"], await store.ListCollectionsAsync(ct));
    }

    [Fact]
    public async Task CancellingASearchTheServerIsSlowToAnswerStopsIt()
    {
        using var store = this._server.Connect();
        var collection = await store.OpenOrCreateCollectionAsync("kb", Settings, TestContext.Current.CancellationToken);
        this._server.Fail("Points/Query", StatusCode.Unavailable, "never sent", hang: true);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cancel.CancelAfter(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => collection.SearchAsync(new SearchRequest(SearchMode.Dense, 3) { Vector = Axis(0) }, cancel.Token));

        // Cancelled, not retried.
        Assert.Single(this._server.Requests<QueryPoints>());
    }
}
