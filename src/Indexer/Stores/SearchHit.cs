using T5Gemma2.Rag.Indexer.Documents;

namespace T5Gemma2.Rag.Indexer.Stores;

/// <summary>A passage found by a search.</summary>
/// <param name="Passage">The passage.</param>
/// <param name="Score">Dense: cosine similarity; keyword: BM25 (higher is better); hybrid: the fused RRF score.</param>
/// <param name="DenseRank">1-based rank in the dense ranking, when it was in it.</param>
/// <param name="KeywordRank">1-based rank in the keyword ranking, when it was in it.</param>
public sealed record SearchHit(Passage Passage, double Score, int? DenseRank = null, int? KeywordRank = null);
