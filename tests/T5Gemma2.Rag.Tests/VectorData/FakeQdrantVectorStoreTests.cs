using T5Gemma2.Rag.Indexer.Stores;
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

    protected override IPassageStore? CreateStore(out string? skipReason)
    {
        skipReason = null;
        return this._server!.Connect(o => o);
    }
}
