using T5Gemma2.Rag.Indexer.Documents;

namespace T5Gemma2.Rag.Indexer.Stores;

/// <summary>A passage with its embedding, as written to a collection.</summary>
public sealed record StoredPassage(Passage Passage, ReadOnlyMemory<float> Vector);
