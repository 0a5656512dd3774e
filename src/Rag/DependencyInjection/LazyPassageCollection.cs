using T5Gemma2.Rag.Indexer.Stores;

namespace T5Gemma2.Rag.DependencyInjection;

/// <summary>
/// The configured collection, opened (or created) on first use rather than when the container builds it: opening
/// is asynchronous (a Qdrant round trip) and DI factories are not. Opening checks the collection's stored model and
/// dimensions against the embedding model's, and a mismatch becomes a <see cref="StoreException"/> naming both.
/// </summary>
internal sealed class LazyPassageCollection : IPassageCollection
{
    private readonly IPassageStore _store;
    private readonly SemaphoreSlim _opening = new(1, 1);
    private IPassageCollection? _collection;

    public LazyPassageCollection(IPassageStore store, string name, CollectionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(settings);
        this._store = store;
        this.Name = name;
        this.Settings = settings;
    }

    public string Name { get; }

    /// <summary>The embedding model's settings; the opened collection has the same (or opening failed).</summary>
    public CollectionSettings Settings { get; }

    public async Task<CollectionInfo> GetInfoAsync(CancellationToken cancellationToken = default) =>
        await (await this.OpenAsync(cancellationToken).ConfigureAwait(false)).GetInfoAsync(cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyDictionary<string, DocumentRecord>> GetDocumentsAsync(CancellationToken cancellationToken = default) =>
        await (await this.OpenAsync(cancellationToken).ConfigureAwait(false)).GetDocumentsAsync(cancellationToken).ConfigureAwait(false);

    public async Task<DocumentRecord?> GetDocumentAsync(string documentId, CancellationToken cancellationToken = default) =>
        await (await this.OpenAsync(cancellationToken).ConfigureAwait(false)).GetDocumentAsync(documentId, cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyDictionary<string, float[]>> GetVectorsAsync(IReadOnlyCollection<string> passageIds, CancellationToken cancellationToken = default) =>
        await (await this.OpenAsync(cancellationToken).ConfigureAwait(false)).GetVectorsAsync(passageIds, cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<StoredPassage>> GetPassagesAsync(IReadOnlyCollection<string> passageIds, bool includeVectors, CancellationToken cancellationToken = default) =>
        await (await this.OpenAsync(cancellationToken).ConfigureAwait(false)).GetPassagesAsync(passageIds, includeVectors, cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<StoredPassage>> ListPassagesAsync(PassageListRequest request, CancellationToken cancellationToken = default) =>
        await (await this.OpenAsync(cancellationToken).ConfigureAwait(false)).ListPassagesAsync(request, cancellationToken).ConfigureAwait(false);

    public async Task UpsertDocumentsAsync(IReadOnlyList<DocumentUpdate> updates, CancellationToken cancellationToken = default) =>
        await (await this.OpenAsync(cancellationToken).ConfigureAwait(false)).UpsertDocumentsAsync(updates, cancellationToken).ConfigureAwait(false);

    public async Task<int> DeleteDocumentsAsync(IReadOnlyCollection<string> documentIds, CancellationToken cancellationToken = default) =>
        await (await this.OpenAsync(cancellationToken).ConfigureAwait(false)).DeleteDocumentsAsync(documentIds, cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<SearchHit>> SearchAsync(SearchRequest request, CancellationToken cancellationToken = default) =>
        await (await this.OpenAsync(cancellationToken).ConfigureAwait(false)).SearchAsync(request, cancellationToken).ConfigureAwait(false);

    public async Task<BulkWriteSession> BeginBulkWriteAsync(Func<string, Func<Task>, Task>? slowStep = null, CancellationToken cancellationToken = default) =>
        await (await this.OpenAsync(cancellationToken).ConfigureAwait(false)).BeginBulkWriteAsync(slowStep, cancellationToken).ConfigureAwait(false);

    /// <summary>The store's collection, opened once.</summary>
    /// <exception cref="ModelMismatchException">The collection was indexed with another model or dimension count.</exception>
    /// <exception cref="StoreException">The store cannot be used.</exception>
    public async Task<IPassageCollection> OpenAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref this._collection) is { } open)
        {
            return open;
        }

        await this._opening.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (this._collection is null)
            {
                this._collection = await this._store.OpenOrCreateCollectionAsync(this.Name, this.Settings, cancellationToken).ConfigureAwait(false);
            }

            return this._collection;
        }
        finally
        {
            this._opening.Release();
        }
    }

    /// <summary>Closes the collection (the store, which may share it, closes it again harmlessly).</summary>
    public void Dispose()
    {
        this._collection?.Dispose();
        this._opening.Dispose();
    }
}
