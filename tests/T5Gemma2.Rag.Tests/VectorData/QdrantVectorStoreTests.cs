using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.VectorData;

/// <summary>
/// The VectorData contract against a live Qdrant server when QDRANT_URL names one (QDRANT_API_KEY for its key); skipped
/// otherwise. Each test gets its own collection-name prefix and deletes its collections after.
/// </summary>
public sealed class QdrantVectorStoreTests(SharedMiniLm miniLm) : VectorStoreContract(miniLm), IAsyncDisposable
{
    private readonly LiveQdrant _server = new("t5rag_mevd_", "the VectorData contract");

    public ValueTask DisposeAsync() => this._server.DisposeAsync();

    protected override IPassageStore? CreateStore(out string? skipReason) => this._server.Connect(o => o, out skipReason);
}
