using T5Gemma2.Rag.Indexer.Stores;

namespace T5Gemma2.Rag.Indexer.Evaluation;

/// <summary>Mean scores of one search mode (and, for hybrid, fusion method) over a dataset's judged queries.</summary>
public sealed record RetrievalScores(SearchMode Mode, FusionMethod? Fusion, int Queries, double NdcgAt10, double RecallAt10, double RecallAt100, double MrrAt10, TimeSpan MeanLatency)
{
    /// <summary>"dense", "keyword", "hybrid" (reciprocal rank fusion) or "hybrid-convex".</summary>
    public string Label => this.Fusion == FusionMethod.Convex ? "hybrid-convex" : this.Mode.ToString().ToLowerInvariant();
}
