using Microsoft.Extensions.VectorData;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Indexer.VectorData;
using T5Gemma2.Rag.Tests.Infrastructure;
using T5Gemma2.Rag.Tests.Stores.QdrantFake;

namespace T5Gemma2.Rag.Tests.VectorData;

/// <summary>
/// The VectorData contract against the Qdrant store talking gRPC to the in-process fake server: the payload filters,
/// order_by and payload indexes the connector's translations send, end to end.
/// </summary>
public sealed class FakeQdrantVectorStoreTests(SharedMiniLm miniLm) : VectorStoreContract(miniLm), IAsyncLifetime
{
    private FakeQdrantServer? _server;

    public async ValueTask InitializeAsync() => this._server = await FakeQdrantServer.StartAsync(TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (this._server is { } server)
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task QdrantOrdersOnlyByAnIndexedNumberOrDateAndSaysSo()
    {
        using var store = this._server!.Connect(o => o);
        var hotels = new T5Gemma2VectorStoreCollection<string, Hotel>(store, "hotels");
        await hotels.EnsureCollectionExistsAsync(TestContext.Current.CancellationToken);
        var byName = new FilteredRecordRetrievalOptions<Hotel> { OrderBy = o => o.Ascending(h => h.Name!) };
        var error = await Assert.ThrowsAsync<NotSupportedException>(async () => await hotels.GetAsync(h => h.Rating > 0, 5, byName, TestContext.Current.CancellationToken).ToListAsync(TestContext.Current.CancellationToken));
        Assert.Contains("'Name'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APropertyMarkedIndexedAfterTheCollectionWasMadeGetsItsIndexWhenTheCollectionIsEnsured()
    {
        using var store = this._server!.Connect(o => o);
        using var vectors = new T5Gemma2VectorStore(store);
        VectorStoreCollectionDefinition Definition(bool ratingIndexed) => new()
        {
            Properties =
            [
                new VectorStoreKeyProperty("Id", typeof(string)),
                new VectorStoreDataProperty("Rating", typeof(int)) { IsIndexed = ratingIndexed },
                new VectorStoreVectorProperty("Embedding", typeof(ReadOnlyMemory<float>), 2),
            ],
        };
        var before = vectors.GetDynamicCollection("rated", Definition(ratingIndexed: false));
        await before.EnsureCollectionExistsAsync(TestContext.Current.CancellationToken);
        await before.UpsertAsync(
        [
            new Dictionary<string, object?> { ["Id"] = "a", ["Rating"] = 2, ["Embedding"] = new ReadOnlyMemory<float>([1f, 0f]) },
            new Dictionary<string, object?> { ["Id"] = "b", ["Rating"] = 5, ["Embedding"] = new ReadOnlyMemory<float>([0f, 1f]) },
        ], TestContext.Current.CancellationToken);
        var byRating = new FilteredRecordRetrievalOptions<Dictionary<string, object?>> { OrderBy = o => o.Descending(r => r["Rating"]!) };
        await Assert.ThrowsAsync<NotSupportedException>(async () => await before.GetAsync(r => (int)r["Rating"]! > 0, 5, byRating, TestContext.Current.CancellationToken).ToListAsync(TestContext.Current.CancellationToken));

        var after = vectors.GetDynamicCollection("rated", Definition(ratingIndexed: true));
        await after.EnsureCollectionExistsAsync(TestContext.Current.CancellationToken);
        var ordered = await after.GetAsync(r => (int)r["Rating"]! > 0, 5, byRating, TestContext.Current.CancellationToken).Select(r => (string)r["Id"]!).ToListAsync(TestContext.Current.CancellationToken);
        Assert.Equal(["b", "a"], ordered);
    }

    protected override IPassageStore? CreateStore(out string? skipReason)
    {
        skipReason = null;
        return this._server!.Connect(o => o);
    }
}
