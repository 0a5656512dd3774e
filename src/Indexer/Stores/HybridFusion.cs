namespace T5Gemma2.Rag.Indexer.Stores;

/// <summary>Merges a dense and a keyword ranking (best first, with their scores) as a <see cref="SearchRequest"/> asks.</summary>
public static class HybridFusion
{
    /// <summary>The fused ranking, best first, cut to the request's top, with each item's rank on either side.</summary>
    public static IReadOnlyList<(TKey Key, double Score, int? DenseRank, int? KeywordRank)> Fuse<TKey>(
        IReadOnlyList<(TKey Key, double Score)> dense, IReadOnlyList<(TKey Key, double Score)> keyword, SearchRequest request)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(dense);
        ArgumentNullException.ThrowIfNull(keyword);
        ArgumentNullException.ThrowIfNull(request);
        if (request.Fusion == FusionMethod.ReciprocalRank)
        {
            return [.. ReciprocalRankFusion.Fuse<TKey>([[.. dense.Select(d => d.Key)], [.. keyword.Select(k => k.Key)]], request.RrfK)
                .Take(request.Top)
                .Select(f => (f.Key, f.Score, f.Ranks[0], f.Ranks[1]))];
        }

        var denseScores = Normalized(dense);
        var keywordScores = Normalized(keyword);
        var denseRanks = Ranks(dense);
        var keywordRanks = Ranks(keyword);
        return [.. denseRanks.Keys.Union(keywordRanks.Keys)
            .Select(key => (Key: key, Score: (request.DenseWeight * denseScores.GetValueOrDefault(key)) + ((1 - request.DenseWeight) * keywordScores.GetValueOrDefault(key))))
            .OrderByDescending(f => f.Score)
            .ThenBy(f => Math.Min(denseRanks.GetValueOrDefault(f.Key, int.MaxValue), keywordRanks.GetValueOrDefault(f.Key, int.MaxValue)))
            .Take(request.Top)
            .Select(f => (f.Key, f.Score, Rank(denseRanks, f.Key), Rank(keywordRanks, f.Key)))];
    }

    /// <summary>Scores mapped to [0, 1] by the list's min and max (a list of equal scores maps to 1); absent items count 0.</summary>
    private static Dictionary<TKey, double> Normalized<TKey>(IReadOnlyList<(TKey Key, double Score)> ranking)
        where TKey : notnull
    {
        if (ranking.Count == 0)
        {
            return [];
        }

        double min = ranking.Min(r => r.Score), max = ranking.Max(r => r.Score);
        var scores = new Dictionary<TKey, double>();
        foreach (var (key, score) in ranking)
        {
            scores.TryAdd(key, max > min ? (score - min) / (max - min) : 1.0);
        }

        return scores;
    }

    private static Dictionary<TKey, int> Ranks<TKey>(IReadOnlyList<(TKey Key, double Score)> ranking)
        where TKey : notnull
    {
        var ranks = new Dictionary<TKey, int>();
        for (int i = 0; i < ranking.Count; i++)
        {
            ranks.TryAdd(ranking[i].Key, i + 1);
        }

        return ranks;
    }

    private static int? Rank<TKey>(Dictionary<TKey, int> ranks, TKey key)
        where TKey : notnull => ranks.TryGetValue(key, out int rank) ? rank : null;
}
