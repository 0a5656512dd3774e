namespace T5Gemma2.Rag.Indexer.Stores;

/// <summary>A document's new state: its record and all its passages, which replace whatever the collection held for it.</summary>
public sealed record DocumentUpdate(DocumentRecord Document, IReadOnlyList<StoredPassage> Passages);
