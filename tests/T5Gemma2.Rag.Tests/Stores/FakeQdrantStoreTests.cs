using T5Gemma2.Rag.Indexer.Stores.Qdrant;
using T5Gemma2.Rag.Tests.Stores.QdrantFake;

namespace T5Gemma2.Rag.Tests.Stores;

/// <summary>
/// The Qdrant store contract against the in-process fake server (<see cref="FakeQdrantServer"/>): the store's
/// requests, filters, fusion and paging end to end, where no real server can run. What the fake does not model
/// (HNSW approximation, quantized scores, shards) is said in <see cref="FakeQdrantCollection"/>.
/// </summary>
public sealed class FakeQdrantStoreTests : QdrantStoreContract, IAsyncLifetime
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

    protected override QdrantPassageStore? CreateStore(Func<QdrantStoreOptions, QdrantStoreOptions> configure, out string? skipReason)
    {
        skipReason = null;
        return this._server!.Connect(configure);
    }
}
