namespace T5Gemma2.Rag.Indexer.Stores;

/// <summary>
/// One collection of passages with their embeddings: what the ingest pipeline writes and retrieval searches. The
/// embedded SQLite store and the Qdrant store implement it; tests/…/Stores/PassageCollectionContract is the suite both pass.
/// </summary>
public interface IPassageCollection : IDisposable
{
    string Name { get; }

    CollectionSettings Settings { get; }

    Task<CollectionInfo> GetInfoAsync(CancellationToken cancellationToken = default);

    /// <summary>Every indexed document's record, by document id (what incremental indexing compares against).</summary>
    Task<IReadOnlyDictionary<string, DocumentRecord>> GetDocumentsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// One document's record, or null when none has that id: one lookup, for a caller that asks about one document
    /// (a write checked against a host's filter) rather than reading every record. The id is matched exactly, as a
    /// value: no character in it (<c>%</c>, <c>_</c>, <c>*</c>, quotes) is a wildcard or syntax.
    /// </summary>
    Task<DocumentRecord?> GetDocumentAsync(string documentId, CancellationToken cancellationToken = default);

    /// <summary>The stored vectors of those passage ids that exist, so unchanged passages are not embedded again.</summary>
    Task<IReadOnlyDictionary<string, float[]>> GetVectorsAsync(IReadOnlyCollection<string> passageIds, CancellationToken cancellationToken = default);

    /// <summary>
    /// The passages of those ids that exist, in no particular order, each with its vector when
    /// <paramref name="includeVectors"/> (otherwise an empty one): a record read by its key.
    /// </summary>
    Task<IReadOnlyList<StoredPassage>> GetPassagesAsync(IReadOnlyCollection<string> passageIds, bool includeVectors, CancellationToken cancellationToken = default);

    /// <summary>
    /// A page of the passages that meet the request's filter, in its order, the filter and the order run by the store;
    /// an order the store cannot run is a <see cref="NotSupportedException"/> that names it.
    /// </summary>
    Task<IReadOnlyList<StoredPassage>> ListPassagesAsync(PassageListRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces each document's passages by the given ones, atomically per call where the store can (the SQLite store:
    /// one transaction), so a run killed at any point leaves every document either as it was or as it is now.
    /// </summary>
    Task UpsertDocumentsAsync(IReadOnlyList<DocumentUpdate> updates, CancellationToken cancellationToken = default);

    /// <summary>Removes the documents and their passages; returns how many documents existed.</summary>
    Task<int> DeleteDocumentsAsync(IReadOnlyCollection<string> documentIds, CancellationToken cancellationToken = default);

    /// <summary>Searches by the request's mode, best first.</summary>
    Task<IReadOnlyList<SearchHit>> SearchAsync(SearchRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Prepares the collection for a run of many writes (an indexing run), each store its way: the embedded store
    /// loads a large collection's HNSW graph first and keeps it in step with the writes (saved when the store closes,
    /// so the next search need not rebuild it); Qdrant turns HNSW indexing of an empty collection off until the session
    /// ends, so the graph is built once over all the points, or turns back on indexing that an interrupted run left off
    /// (saying so in <see cref="BulkWriteSession.Notice"/>). Writes work the same with or without a session.
    /// </summary>
    /// <param name="slowStep">
    /// Runs a step that may take minutes (loading a large collection's vector index) under a description the user can
    /// be shown, e.g. as a spinner; null runs it as it is. Quick steps are not passed to it.
    /// </param>
    Task<BulkWriteSession> BeginBulkWriteAsync(Func<string, Func<Task>, Task>? slowStep = null, CancellationToken cancellationToken = default);
}
