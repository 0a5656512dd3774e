using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Indexer.Stores.Qdrant;

namespace T5Gemma2.Rag.Tests.Stores;

/// <summary>
/// The store contract plus what only the Qdrant store promises (resuming without duplicates, exact prefixes inside
/// directory names, tenant/quantized/sharded layouts, bulk loads), for any server: a live one
/// (<see cref="QdrantPassageStoreTests"/>) or the in-process fake (<see cref="FakeQdrantStoreTests"/>).
/// </summary>
public abstract class QdrantStoreContract : PassageCollectionContract
{
    protected override IPassageStore? CreateStore(out string? skipReason) => this.CreateStore(o => o, out skipReason);

    /// <summary>A fresh store with <paramref name="configure"/> applied to its options; null when no server is available (the reason says why).</summary>
    protected abstract QdrantPassageStore? CreateStore(Func<QdrantStoreOptions, QdrantStoreOptions> configure, out string? skipReason);

    [Fact]
    public async Task RepeatingAnInterruptedRunLeavesNoDuplicates()
    {
        using var store = this.Store();
        var collection = await store.OpenOrCreateCollectionAsync("resume", new CollectionSettings(Dimensions, "contract-model"), TestContext.Current.CancellationToken);
        var random = new Random(3);
        var updates = Enumerable.Range(0, 40).Select(d => Update($"doc-{d}", [.. Enumerable.Range(0, 5).Select(p => ($"doc {d} part {p}", RandomVector(random)))])).ToList();

        // A run that wrote the first half, then everything again (what the next run does), then one document changed.
        await collection.UpsertDocumentsAsync(updates[..20], TestContext.Current.CancellationToken);
        await collection.UpsertDocumentsAsync(updates, TestContext.Current.CancellationToken);
        await collection.UpsertDocumentsAsync(updates, TestContext.Current.CancellationToken);
        await collection.UpsertDocumentsAsync([Update("doc-7", ("doc 7 rewritten", Axis(1)))], TestContext.Current.CancellationToken);

        var info = await collection.GetInfoAsync(TestContext.Current.CancellationToken);
        Assert.Equal((40, (39 * 5) + 1), (info.Documents, info.Passages));
        var documents = await collection.GetDocumentsAsync(TestContext.Current.CancellationToken);
        Assert.Equal(updates[3].Document.ContentHash, documents["doc-3"].ContentHash);
        Assert.Equal(1, documents["doc-7"].PassageCount);
    }

    [Fact]
    public async Task APrefixInsideADirectoryNameFiltersExactlyInEveryMode()
    {
        using var store = this.Store();
        var collection = await store.OpenOrCreateCollectionAsync("prefix", new CollectionSettings(Dimensions, "contract-model"), TestContext.Current.CancellationToken);
        await collection.UpsertDocumentsAsync(
        [
            Update("docs/a.md", ("rockets and engines", Axis(0))),
            Update("docs-old/b.md", ("rockets of old", Axis(1))),
            Update("notes/c.md", ("rockets in notes", Axis(2))),
        ], TestContext.Current.CancellationToken);

        // "/src/doc" is no directory: the server narrows to "/src/", the client keeps sources starting with the prefix.
        var filter = new PassageFilter { SourcePrefix = "/src/doc" };
        foreach (var (mode, fusion) in new[] { (SearchMode.Dense, FusionMethod.ReciprocalRank), (SearchMode.Keyword, FusionMethod.ReciprocalRank), (SearchMode.Hybrid, FusionMethod.ReciprocalRank), (SearchMode.Hybrid, FusionMethod.Convex) })
        {
            var hits = await collection.SearchAsync(new SearchRequest(mode, 10) { Vector = Axis(0), Text = "rockets", Filter = filter, Fusion = fusion }, TestContext.Current.CancellationToken);
            Assert.Equal(["docs-old/b.md", "docs/a.md"], hits.Select(h => h.Passage.DocumentId).Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task ATenantTagQuantizedOnDiskShardedCollectionSearchesAndFilters()
    {
        var store = this.CreateStore(o => o with { TenantTag = "team", ScalarQuantization = true, OnDiskVectors = true, Shards = 2, SearchEf = 64 }, out string? reason);
        if (store is null)
        {
            Assert.Skip(reason!);
        }

        using (store)
        {
            var collection = await store.OpenOrCreateCollectionAsync("tenants", new CollectionSettings(Dimensions, "contract-model"), TestContext.Current.CancellationToken);
            var now = DateTimeOffset.UtcNow;
            await collection.UpsertDocumentsAsync(
            [
                Update("red-1", now, new Dictionary<string, string> { ["team"] = "red" }, ("launch plans", Axis(0))),
                Update("blue-1", now, new Dictionary<string, string> { ["team"] = "blue" }, ("launch budget", Mix(0, 1, 0.2f))),
            ], TestContext.Current.CancellationToken);
            foreach (var mode in Enum.GetValues<SearchMode>())
            {
                var hits = await collection.SearchAsync(new SearchRequest(mode, 5) { Vector = Axis(0), Text = "launch", Filter = new PassageFilter { Tags = new Dictionary<string, string> { ["team"] = "blue" } } }, TestContext.Current.CancellationToken);
                Assert.Equal("blue-1", Assert.Single(hits).Passage.DocumentId);
                Assert.Equal("blue", hits[0].Passage.Tags["team"]);
            }
        }
    }

    [Fact]
    public async Task ABulkLoadDefersIndexingAndRecordsHaveNoVectors()
    {
        using var store = this.Store();
        var collection = (QdrantPassageCollection)await store.OpenOrCreateCollectionAsync("bulk", new CollectionSettings(Dimensions, "contract-model"), TestContext.Current.CancellationToken);
        await using (var bulk = await collection.BeginBulkLoadAsync(TestContext.Current.CancellationToken))
        {
            await collection.UpsertDocumentsAsync([Update("a", ("alpha words", Axis(0))), Update("b", ("beta words", Axis(1)))], TestContext.Current.CancellationToken);
            await bulk.EndAsync(TestContext.Current.CancellationToken);
        }

        // Two documents, two passages: the records are counted apart and never come back from a search.
        var info = await collection.GetInfoAsync(TestContext.Current.CancellationToken);
        Assert.Equal((2, 2), (info.Documents, info.Passages));
        Assert.StartsWith("qdrant", info.Location, StringComparison.Ordinal);
        var hits = await collection.SearchAsync(Query(SearchMode.Dense, Axis(0), null, 10), TestContext.Current.CancellationToken);
        Assert.Equal(2, hits.Count);
        Assert.Equal(["a", "b"], (await collection.GetDocumentsAsync(TestContext.Current.CancellationToken)).Keys.Order(StringComparer.Ordinal));
    }
}
