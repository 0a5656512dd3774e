using T5Gemma2.Rag.Indexer.Stores.Qdrant;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Stores;

/// <summary>
/// The store contract against a live Qdrant server, when QDRANT_URL names one (QDRANT_API_KEY for its key); skipped
/// otherwise. Each test gets its own collection-name prefix and deletes its collections after, so runs can share a
/// server.
/// </summary>
public sealed class QdrantPassageStoreTests : QdrantStoreContract, IAsyncDisposable
{
    private readonly LiveQdrant _server = new("t5rag_test_", "the store contract");

    public ValueTask DisposeAsync() => this._server.DisposeAsync();

    protected override QdrantPassageStore? CreateStore(Func<QdrantStoreOptions, QdrantStoreOptions> configure, out string? skipReason) =>
        this._server.Connect(configure, out skipReason);
}
