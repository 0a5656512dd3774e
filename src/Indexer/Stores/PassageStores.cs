using Microsoft.Extensions.Logging;
using T5Gemma2.Rag.Indexer.Stores.Embedded;
using T5Gemma2.Rag.Indexer.Stores.Qdrant;

namespace T5Gemma2.Rag.Indexer.Stores;

/// <summary>
/// Opens the store a location string names, so every command takes one <c>--store</c>: a directory path for the
/// embedded store; <c>qdrant://host:6334</c>, <c>qdrants://…</c>, <c>http(s)://…</c> or the bare word <c>qdrant</c>
/// (QDRANT_URL) for a Qdrant server (<see cref="QdrantStoreLocation"/>).
/// </summary>
public static class PassageStores
{
    /// <summary>Whether the location names a Qdrant server rather than a directory.</summary>
    public static bool IsServer(string location) => QdrantStoreLocation.IsQdrant(location);

    /// <summary>The collection a Qdrant location names (<c>?collection=name</c>); null for a directory or a URL without one.</summary>
    /// <exception cref="StoreException">The location looks like a Qdrant URL but is malformed.</exception>
    public static string? CollectionOf(string location) => IsServer(location) ? ParseServer(location, environment: null).Collection : null;

    /// <summary>The store at <paramref name="location"/>.</summary>
    /// <param name="loggerFactory">For the Qdrant store's retries and the gRPC channel, and the embedded store's waits for another writer.</param>
    /// <param name="configureQdrant">Adjusts the Qdrant options parsed from the location (API key from settings, shards, replicas…).</param>
    /// <exception cref="StoreException">The location looks like a Qdrant URL but is malformed.</exception>
    public static IPassageStore Open(string location, ILoggerFactory? loggerFactory = null, Func<QdrantStoreOptions, QdrantStoreOptions>? configureQdrant = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(location);
        if (!IsServer(location))
        {
            return EmbeddedPassageStore.Open(location, loggerFactory: loggerFactory);
        }

        var options = ParseServer(location, environment: null).ToOptions();
        return QdrantPassageStore.Connect(configureQdrant is null ? options : configureQdrant(options), loggerFactory);
    }

    private static QdrantStoreLocation ParseServer(string location, Func<string, string?>? environment)
    {
        try
        {
            return QdrantStoreLocation.Parse(location, environment);
        }
        catch (FormatException ex)
        {
            throw new StoreException(ex.Message, ex);
        }
    }
}
