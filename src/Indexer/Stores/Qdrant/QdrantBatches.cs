namespace T5Gemma2.Rag.Indexer.Stores.Qdrant;

/// <summary>
/// Splits writes into requests capped by item count and by serialized bytes: Qdrant's guidance is 64–256 points a
/// request, and a request past the server's size cap (32 MB on REST by default) fails outright, so long passages
/// must cut a batch short of its count.
/// </summary>
public static class QdrantBatches
{
    /// <summary>
    /// Consecutive batches of at most <paramref name="maxCount"/> items and <paramref name="maxBytes"/> bytes by
    /// <paramref name="sizeOf"/>, in order; an item larger than <paramref name="maxBytes"/> alone makes a batch of one
    /// (the server then decides).
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<T>> Split<T>(IReadOnlyList<T> items, int maxCount, long maxBytes, Func<T, long> sizeOf)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(sizeOf);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        var batches = new List<IReadOnlyList<T>>();
        var current = new List<T>();
        long bytes = 0;
        foreach (var item in items)
        {
            long size = sizeOf(item);
            if (current.Count > 0 && (current.Count == maxCount || bytes + size > maxBytes))
            {
                batches.Add(current);
                current = [];
                bytes = 0;
            }

            current.Add(item);
            bytes += size;
        }

        if (current.Count > 0)
        {
            batches.Add(current);
        }

        return batches;
    }
}
