using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Indexer.Stores.Qdrant;

namespace T5Gemma2.Rag.Tests.Stores;

/// <summary>
/// The store contract against a live Qdrant server, when QDRANT_URL names one (QDRANT_API_KEY for its key); skipped
/// otherwise. Each test gets its own collection-name prefix and deletes its collections after, so runs can share a
/// server.
/// </summary>
public sealed class QdrantPassageStoreTests : QdrantStoreContract, IAsyncDisposable
{
    private const string NoServer = "no Qdrant server: set QDRANT_URL (e.g. http://localhost:6334) to run the store contract against one (compose/docker-compose.yml starts it)";
    private readonly List<QdrantStoreOptions> _created = [];

    /// <summary>Deletes what the test made, through a store of its own (the test disposed its store already).</summary>
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

    protected override QdrantPassageStore? CreateStore(Func<QdrantStoreOptions, QdrantStoreOptions> configure, out string? skipReason)
    {
        if (Environment.GetEnvironmentVariable(QdrantStoreLocation.UrlVariable) is not { Length: > 0 } url)
        {
            skipReason = NoServer;
            return null;
        }

        skipReason = null;
        var options = configure(QdrantStoreLocation.Parse(url).ToOptions() with { CollectionPrefix = $"t5rag_test_{Guid.NewGuid().ToString("N")[..10]}_" });
        this._created.Add(options);
        return QdrantPassageStore.Connect(options);
    }
}
