namespace T5Gemma2.Rag.Indexer.Stores.Embedded;

/// <summary>
/// How the embedded store serves dense search: exact SIMD scans while a collection is small, an HNSW graph (USearch)
/// past <see cref="ExactSearchThreshold"/> passages, where a scan per query would cost too much.
/// </summary>
public sealed class EmbeddedStoreOptions
{
    /// <summary>The defaults: HNSW from 20,000 passages, M = 16, ef(add) = 128, ef(search) = 192.</summary>
    public static EmbeddedStoreOptions Default { get; } = new();

    /// <summary>
    /// Passages from which dense search goes through the HNSW graph; below it every vector is scanned (exact, and at
    /// that size as fast). <see cref="int.MaxValue"/> keeps search exact and builds no graph.
    /// </summary>
    public int ExactSearchThreshold { get; init; } = 20_000;

    /// <summary>HNSW's M: links per node (memory and recall grow with it).</summary>
    public int HnswConnectivity { get; init; } = 16;

    /// <summary>HNSW's ef while inserting: the candidate list that decides a node's links (build time and graph quality).</summary>
    public int HnswExpansionAdd { get; init; } = 128;

    /// <summary>
    /// HNSW's ef while searching; a query for k passages searches with max(ef, 2k). 192 because recall@10 at a million
    /// 640-dimension passages measured 0.78 at ef 64, 0.93 at 128, 0.96 at 192 (`t5rag bench search`), for about 0.5 ms more.
    /// </summary>
    public int HnswExpansionSearch { get; init; } = 192;

    /// <summary>
    /// Threads that add vectors to the HNSW graph while it is built (every core by default). The build runs beside
    /// searches, which scan exactly until the graph is ready.
    /// </summary>
    public int BuildThreads { get; init; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>
    /// How long a write waits while another process writes the same collection (SQLite's busy timeout) before it fails
    /// with a <see cref="StoreWriteException"/>; each process's writes are short transactions, so two `t5rag index` runs
    /// on one store take turns well inside it.
    /// </summary>
    public TimeSpan WriteWait { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first value out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(this.ExactSearchThreshold, 1, nameof(this.ExactSearchThreshold));
        ArgumentOutOfRangeException.ThrowIfLessThan(this.HnswConnectivity, 2, nameof(this.HnswConnectivity));
        ArgumentOutOfRangeException.ThrowIfLessThan(this.HnswExpansionAdd, 1, nameof(this.HnswExpansionAdd));
        ArgumentOutOfRangeException.ThrowIfLessThan(this.HnswExpansionSearch, 1, nameof(this.HnswExpansionSearch));
        ArgumentOutOfRangeException.ThrowIfLessThan(this.BuildThreads, 1, nameof(this.BuildThreads));
        ArgumentOutOfRangeException.ThrowIfLessThan(this.WriteWait, TimeSpan.FromSeconds(1), nameof(this.WriteWait));
    }
}
