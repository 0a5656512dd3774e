namespace T5Gemma2.Rag.Evaluation;

/// <summary>
/// The retrieval measures BEIR reports, computed as pytrec_eval does: graded gain with a log2 discount for nDCG,
/// relevance &gt; 0 for recall and reciprocal rank.
/// </summary>
public static class RetrievalMetrics
{
    /// <summary>nDCG@k: Σ rel_i / log2(i + 1) over the ranking's top k, divided by the same over the ideal ordering of the judged documents.</summary>
    public static double Ndcg(IReadOnlyList<string> ranked, IReadOnlyDictionary<string, int> judgments, int k)
    {
        double dcg = 0;
        for (int i = 0; i < Math.Min(k, ranked.Count); i++)
        {
            if (judgments.TryGetValue(ranked[i], out int gain) && gain > 0)
            {
                dcg += gain / Math.Log2(i + 2);
            }
        }

        double ideal = judgments.Values.Where(g => g > 0).OrderDescending().Take(k).Select((g, i) => g / Math.Log2(i + 2)).Sum();
        return ideal == 0 ? 0 : dcg / ideal;
    }

    /// <summary>Recall@k: the share of relevant documents (judgment &gt; 0) found in the top k.</summary>
    public static double Recall(IReadOnlyList<string> ranked, IReadOnlyDictionary<string, int> judgments, int k)
    {
        int relevant = judgments.Values.Count(g => g > 0);
        return relevant == 0 ? 0 : (double)ranked.Take(k).Count(d => judgments.TryGetValue(d, out int g) && g > 0) / relevant;
    }

    /// <summary>MRR@k: 1 / the rank of the first relevant document in the top k, 0 when none is.</summary>
    public static double ReciprocalRank(IReadOnlyList<string> ranked, IReadOnlyDictionary<string, int> judgments, int k)
    {
        for (int i = 0; i < Math.Min(k, ranked.Count); i++)
        {
            if (judgments.TryGetValue(ranked[i], out int g) && g > 0)
            {
                return 1.0 / (i + 1);
            }
        }

        return 0;
    }
}
