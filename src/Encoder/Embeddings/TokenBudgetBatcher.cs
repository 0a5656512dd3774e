namespace T5Gemma2.Rag.Encoder.Embeddings;

/// <summary>
/// Groups inputs into batches the way text-embeddings-inference does: sorted by length so that inputs of similar
/// length share a batch, and each batch capped by its padded token count (batch size × its longest input) rather than
/// by a fixed item count. Little compute goes to padding, and short inputs travel in large batches.
/// </summary>
internal static class TokenBudgetBatcher
{
    /// <param name="lengths">Token count of each input.</param>
    /// <param name="maxBatchTokens">Most padded tokens in one batch (one input longer than this still goes alone).</param>
    /// <param name="maxBatchSize">Most inputs in one batch.</param>
    /// <param name="sortByLength">False keeps the given order, for comparison with naive fixed-size batching.</param>
    /// <returns>Batches of input indices.</returns>
    public static List<int[]> Plan(IReadOnlyList<int> lengths, int maxBatchTokens, int maxBatchSize, bool sortByLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchTokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchSize, 1);
        var order = Enumerable.Range(0, lengths.Count).ToArray();
        if (sortByLength)
        {
            // Longest first, ties by position, so the plan is deterministic.
            Array.Sort(order, (a, b) => lengths[a] != lengths[b] ? lengths[b].CompareTo(lengths[a]) : a.CompareTo(b));
        }

        var batches = new List<int[]>();
        var current = new List<int>();
        int longest = 0;
        foreach (int index in order)
        {
            int candidateLongest = Math.Max(longest, lengths[index]);
            if (current.Count > 0 && (current.Count == maxBatchSize || (long)candidateLongest * (current.Count + 1) > maxBatchTokens))
            {
                batches.Add([.. current]);
                current.Clear();
                candidateLongest = lengths[index];
            }

            current.Add(index);
            longest = candidateLongest;
        }

        if (current.Count > 0)
        {
            batches.Add([.. current]);
        }

        return batches;
    }
}
