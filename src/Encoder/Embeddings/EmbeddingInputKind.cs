namespace T5Gemma2.Rag.Encoder.Embeddings;

/// <summary>
/// Whether text is embedded as a passage to be found or as a query that searches; models trained with prefixes
/// (e.g. "query: ") need to know. Pass it through <see cref="EmbeddingGenerationOptionsExtensions.WithInputKind"/>.
/// </summary>
public enum EmbeddingInputKind
{
    /// <summary>Text to index (the default).</summary>
    Passage,

    /// <summary>A search query.</summary>
    Query,
}
