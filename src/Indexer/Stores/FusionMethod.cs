namespace T5Gemma2.Rag.Indexer.Stores;

/// <summary>How hybrid search merges the dense and keyword rankings.</summary>
public enum FusionMethod
{
    /// <summary>Reciprocal rank fusion, Σ 1 / (k + rank): needs no score calibration; what Qdrant and most engines do.</summary>
    ReciprocalRank,

    /// <summary>α·dense + (1 − α)·keyword over min-max normalized scores (Bruch et al., 2023: often ahead of RRF when one side is weaker).</summary>
    Convex,
}
