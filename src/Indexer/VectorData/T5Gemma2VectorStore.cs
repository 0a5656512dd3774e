using System.Runtime.CompilerServices;
using Microsoft.Extensions.VectorData;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Indexer.Stores.Embedded;
using T5Gemma2.Rag.Indexer.Stores.Qdrant;

namespace T5Gemma2.Rag.Indexer.VectorData;

/// <summary>
/// Microsoft.Extensions.VectorData's <see cref="VectorStore"/> over one of our stores: the embedded SQLite store (a
/// directory) or Qdrant (<see cref="PassageStores.Open"/> takes either), each collection a
/// <see cref="T5Gemma2VectorStoreCollection{TKey, TRecord}"/>.
/// </summary>
public sealed class T5Gemma2VectorStore : VectorStore
{
    private readonly IPassageStore _store;
    private readonly bool _ownsStore;
    private readonly T5Gemma2VectorStoreOptions _options;
    private readonly VectorStoreMetadata _metadata;

    /// <param name="store">The store.</param>
    /// <param name="ownsStore">Whether disposing this disposes the store.</param>
    /// <param name="options">Defaults of the collections; null: none.</param>
    public T5Gemma2VectorStore(IPassageStore store, bool ownsStore = false, T5Gemma2VectorStoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        this._store = store;
        this._ownsStore = ownsStore;
        this._options = options ?? new T5Gemma2VectorStoreOptions();
        this._metadata = new VectorStoreMetadata { VectorStoreSystemName = SystemName(store), VectorStoreName = store.Location };
    }

    /// <summary>Opens the store <paramref name="location"/> names (a directory, or qdrant://host:port), owned by the vector store.</summary>
    public static T5Gemma2VectorStore Open(string location, T5Gemma2VectorStoreOptions? options = null) =>
        new(PassageStores.Open(location), ownsStore: true, options);

    public override VectorStoreCollection<TKey, TRecord> GetCollection<TKey, TRecord>(string name, VectorStoreCollectionDefinition? definition = null) =>
        new T5Gemma2VectorStoreCollection<TKey, TRecord>(this._store, name, this.CollectionOptions(definition));

    public override VectorStoreCollection<object, Dictionary<string, object?>> GetDynamicCollection(string name, VectorStoreCollectionDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return new T5Gemma2VectorStoreCollection<object, Dictionary<string, object?>>(this._store, name, this.CollectionOptions(definition), dynamic: true);
    }

    public override async IAsyncEnumerable<string> ListCollectionNamesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        IReadOnlyList<string> names;
        try
        {
            names = await this._store.ListCollectionsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (VectorStoreFailures.IsStoreFailure(ex))
        {
            throw VectorStoreFailures.From(ex, this._metadata, null, "ListCollectionNames");
        }

        foreach (string name in names)
        {
            yield return name;
        }
    }

    public override async Task<bool> CollectionExistsAsync(string name, CancellationToken cancellationToken = default)
    {
        try
        {
            return await this._store.OpenCollectionAsync(name, cancellationToken).ConfigureAwait(false) is not null; // the store's: not disposed
        }
        catch (Exception ex) when (VectorStoreFailures.IsStoreFailure(ex))
        {
            throw VectorStoreFailures.From(ex, this._metadata, name, "CollectionExists");
        }
    }

    public override async Task EnsureCollectionDeletedAsync(string name, CancellationToken cancellationToken = default)
    {
        try
        {
            await this._store.DeleteCollectionAsync(name, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (VectorStoreFailures.IsStoreFailure(ex))
        {
            throw VectorStoreFailures.From(ex, this._metadata, name, "EnsureCollectionDeleted");
        }
    }

    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(VectorStoreMetadata) ? this._metadata
            : serviceType == typeof(IPassageStore) ? this._store
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && this._ownsStore)
        {
            this._store.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>The name MEVD telemetry and exceptions give a store: "t5gemma2-embedded" or "t5gemma2-qdrant".</summary>
    internal static string SystemName(IPassageStore store) => store switch
    {
        EmbeddedPassageStore => "t5gemma2-embedded",
        QdrantPassageStore => "t5gemma2-qdrant",
        _ => store.GetType().Name,
    };

    private T5Gemma2CollectionOptions CollectionOptions(VectorStoreCollectionDefinition? definition) => new()
    {
        Definition = definition,
        EmbeddingGenerator = this._options.EmbeddingGenerator,
        ModelId = this._options.ModelId,
    };
}
