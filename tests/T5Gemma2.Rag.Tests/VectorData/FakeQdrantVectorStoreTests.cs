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

    protected override IPassageStore? CreateStore(out string? skipReason)
    {
        skipReason = null;
        return this._server!.Connect(o => o);
    }
}
