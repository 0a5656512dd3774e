namespace T5Gemma2.Rag.Indexer.Stores;

/// <summary>
/// Reciprocal rank fusion (Cormack, Clarke and Büttcher, 2009): each ranking adds 1 / (k + rank) for every item it
/// holds. It needs no score calibration between BM25 and cosine, which is why hybrid search uses it.
/// </summary>
public static class ReciprocalRankFusion
{
    /// <summary>Fuses rankings (best first) into (item, score, rank in each ranking) ordered by fused score, best first.</summary>
    public static IReadOnlyList<(TKey Key, double Score, int?[] Ranks)> Fuse<TKey>(IReadOnlyList<IReadOnlyList<TKey>> rankings, int k)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(rankings);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var fused = new Dictionary<TKey, (double Score, int?[] Ranks)>();
        for (int r = 0; r < rankings.Count; r++)
        {
            for (int i = 0; i < rankings[r].Count; i++)
            {
                var key = rankings[r][i];
                if (!fused.TryGetValue(key, out var entry))
                {
                    entry = (0, new int?[rankings.Count]);
                }

                entry.Ranks[r] ??= i + 1;
                fused[key] = (entry.Score + (1.0 / (k + i + 1)), entry.Ranks);
            }
        }

        // Ties (rare) go to the item ranked best anywhere, then to the first ranking's order.
        return [.. fused
            .OrderByDescending(p => p.Value.Score)
            .ThenBy(p => p.Value.Ranks.Min(x => x ?? int.MaxValue))
            .ThenBy(p => p.Value.Ranks[0] ?? int.MaxValue)
            .Select(p => (p.Key, p.Value.Score, p.Value.Ranks))];
    }
}
