namespace T5Gemma2.Rag.Indexer.Stores.Embedded;

/// <summary>A graph being built from <see cref="RowIds"/> at <see cref="Generation"/>, and the rows written since (guarded by the vector index's lock).</summary>
internal sealed class PendingGraph(long[] rowIds, long generation, Int8Quantizer quantizer)
{
    public long[] RowIds { get; } = rowIds;

    public long Generation { get; } = generation;

    public Int8Quantizer Quantizer { get; } = quantizer;

    /// <summary>Rowids removed, added or changed since <see cref="Generation"/>: each is removed from the new graph and added again if still present.</summary>
    public HashSet<long> Touched { get; } = [];

    public CancellationTokenSource Cancellation { get; } = new();

    public Task Task { get; set; } = Task.CompletedTask;
}
