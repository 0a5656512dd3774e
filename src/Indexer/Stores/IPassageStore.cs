namespace T5Gemma2.Rag.Indexer.Stores;

/// <summary>A place that holds named collections: a directory for the embedded store, a server for Qdrant.</summary>
public interface IPassageStore : IDisposable
{
    /// <summary>Where the store is, for messages: its directory, or its server as <c>--store</c> names it (without the API key).</summary>
    string Location { get; }

    Task<IReadOnlyList<string>> ListCollectionsAsync(CancellationToken cancellationToken = default);

    /// <summary>Opens an existing collection, or returns null when there is none of that name.</summary>
    Task<IPassageCollection?> OpenCollectionAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Opens the collection, creating it with these settings when it does not exist; an existing one made for another
    /// model or dimension count is refused with a <see cref="ModelMismatchException"/> that names both.
    /// </summary>
    Task<IPassageCollection> OpenOrCreateCollectionAsync(string name, CollectionSettings settings, CancellationToken cancellationToken = default);

    /// <summary>Deletes the collection; false when there was none.</summary>
    Task<bool> DeleteCollectionAsync(string name, CancellationToken cancellationToken = default);
}
