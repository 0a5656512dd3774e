using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Indexer.Stores.Qdrant;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.VectorData;

/// <summary>
/// The VectorData contract against a live Qdrant server when QDRANT_URL names one (QDRANT_API_KEY for its key); skipped
/// otherwise. Each test gets its own collection-name prefix and deletes its collections after.
/// </summary>
public sealed class QdrantVectorStoreTests(SharedMiniLm miniLm) : VectorStoreContract(miniLm), IAsyncDisposable
{
    private const string NoServer = "no Qdrant server: set QDRANT_URL (e.g. http://localhost:6334) to run the VectorData contract against one (compose/docker-compose.yml starts it)";
    private readonly List<QdrantStoreOptions> _created = [];

    public async ValueTask DisposeAsync()
    {
        foreach (var options in this._created)
        {
            using var store = QdrantPassageStore.Connect(options);
            foreach (string name in await store.ListCollectionsAsync(CancellationToken.None))
            {
                await store.DeleteCollectionAsync(name, CancellationToken.None);
            }
        }
    }

    protected override IPassageStore? CreateStore(out string? skipReason)
    {
        if (Environment.GetEnvironmentVariable(QdrantStoreLocation.UrlVariable) is not { Length: > 0 } url)
        {
            skipReason = NoServer;
            return null;
        }

        skipReason = null;
        var options = QdrantStoreLocation.Parse(url).ToOptions() with { CollectionPrefix = $"t5rag_mevd_{Guid.NewGuid().ToString("N")[..10]}_" };
        this._created.Add(options);
        return QdrantPassageStore.Connect(options);
    }
}
