namespace T5Gemma2.Rag.Indexer.Stores;

/// <summary>
/// What a collection remembers of an indexed document, so a later run can skip it when unchanged.
/// </summary>
/// <param name="DocumentId">The document's id.</param>
/// <param name="Source">Its path or URI.</param>
/// <param name="ContentHash">Hash of what produced its passages (text and chunking settings): equal means nothing to redo.</param>
/// <param name="PassageCount">Passages written for it.</param>
/// <param name="IndexedAt">When it was written.</param>
public sealed record DocumentRecord(string DocumentId, string Source, string ContentHash, int PassageCount, DateTimeOffset IndexedAt);
