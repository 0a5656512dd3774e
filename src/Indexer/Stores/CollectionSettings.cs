namespace T5Gemma2.Rag.Indexer.Stores;

/// <summary>What a collection is fixed to when created: the embedding model and its dimensions.</summary>
/// <param name="Dimensions">Vector length.</param>
/// <param name="ModelId">The embedding model's id; searching with another model's vectors would be meaningless.</param>
public sealed record CollectionSettings(int Dimensions, string ModelId);
