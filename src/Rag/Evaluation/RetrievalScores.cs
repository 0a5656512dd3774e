using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Retrieval;

namespace T5Gemma2.Rag.Evaluation;

/// <summary>Mean scores of one retrieval setting over a dataset's judged queries.</summary>
/// <param name="Settings">What the retriever was asked for, exactly (depth and candidates included).</param>
/// <param name="MeanLatency">Per query: the query's embedding, the search, merging, capping and reranking, as ask spends them.</param>
public sealed record RetrievalScores(RetrievalOptions Settings, int Queries, double NdcgAt10, double RecallAt10, double RecallAt100, double MrrAt10, TimeSpan MeanLatency)
{
    /// <summary>"dense", "keyword", "hybrid" (reciprocal rank fusion) or "hybrid-convex", with "+rerank" when the decoder reranked.</summary>
    public string Label =>
        (this.Settings.Mode == SearchMode.Hybrid && this.Settings.Fusion == FusionMethod.Convex ? "hybrid-convex" : this.Settings.Mode.ToString().ToLowerInvariant())
        + (this.Settings.Rerank ? "+rerank" : string.Empty);
}
