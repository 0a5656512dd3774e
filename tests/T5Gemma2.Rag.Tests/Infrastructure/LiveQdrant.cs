using T5Gemma2.Rag.Indexer.Stores.Qdrant;

namespace T5Gemma2.Rag.Tests.Infrastructure;

/// <summary>
/// Stores on the live Qdrant server QDRANT_URL names (QDRANT_API_KEY for its key), each under a collection-name prefix
/// of its own so runs can share a server; disposing deletes every collection they made. No server: no store, and the
/// reason a test prints when it skips.
/// </summary>
internal sealed class LiveQdrant(string prefix, string what) : IAsyncDisposable
{
    private readonly List<QdrantStoreOptions> _created = [];

    /// <summary>A store on the server, or null (and why) when QDRANT_URL is not set.</summary>
    public QdrantPassageStore? Connect(Func<QdrantStoreOptions, QdrantStoreOptions> configure, out string? skipReason)
    {
        if (Environment.GetEnvironmentVariable(QdrantStoreLocation.UrlVariable) is not { Length: > 0 } url)
        {
            skipReason = $"no Qdrant server: set QDRANT_URL (e.g. http://localhost:6334) to run {what} against one (compose/docker-compose.yml starts it)";
            return null;
        }

        skipReason = null;
        var options = configure(QdrantStoreLocation.Parse(url).ToOptions() with { CollectionPrefix = $"{prefix}{Guid.NewGuid().ToString("N")[..10]}_" });
        this._created.Add(options);
        return QdrantPassageStore.Connect(options);
    }

    /// <summary>Deletes what the stores made, through a store of its own (the tests disposed theirs already).</summary>
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
}
