namespace T5Gemma2.Rag.Indexer.Stores;

/// <summary>How a collection is searched.</summary>
public enum SearchMode
{
    /// <summary>Nearest embeddings (cosine on L2-normalized vectors).</summary>
    Dense,

    /// <summary>BM25 over the passages' words.</summary>
    Keyword,

    /// <summary>Dense and keyword rankings fused by reciprocal rank fusion.</summary>
    Hybrid,
}
