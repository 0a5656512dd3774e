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

    /// <summary>The stored vectors of those passage ids that exist, so unchanged passages are not embedded again.</summary>
    Task<IReadOnlyDictionary<string, float[]>> GetVectorsAsync(IReadOnlyCollection<string> passageIds, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces each document's passages by the given ones, atomically per call where the store can (the SQLite store:
    /// one transaction), so a run killed at any point leaves every document either as it was or as it is now.
    /// </summary>
    Task UpsertDocumentsAsync(IReadOnlyList<DocumentUpdate> updates, CancellationToken cancellationToken = default);

    /// <summary>Removes the documents and their passages; returns how many documents existed.</summary>
    Task<int> DeleteDocumentsAsync(IReadOnlyCollection<string> documentIds, CancellationToken cancellationToken = default);

    /// <summary>Searches by the request's mode, best first.</summary>
    Task<IReadOnlyList<SearchHit>> SearchAsync(SearchRequest request, CancellationToken cancellationToken = default);
}
