using System.Diagnostics;

namespace T5Gemma2.Rag.Indexer.Stores.Embedded;

/// <summary>
/// An embedded collection's HNSW graph, kept at its vector matrix's generation: edited with each write when in step,
/// otherwise, past <see cref="EmbeddedStoreOptions.ExactSearchThreshold"/> rows, loaded from
/// <see cref="HnswVectorIndex.FileName"/> or built (inline when small, else on its own thread, off the lock: searches
/// scan exactly meanwhile, writes go on, and the rows they touch are re-placed before the graph is swapped in), and
/// saved when it differs from the one on disk.
/// </summary>
/// <remarks>
/// The lock is the owner's (<see cref="EmbeddedVectorIndex"/>): <see cref="Update"/>, <see cref="Release"/> and
/// <see cref="IsMissing"/> run under its write lock, <see cref="Graph"/> is read under either; <see cref="Save"/>,
/// <see cref="SaveAfterBuild"/> and <see cref="PendingBuild"/> take it themselves, so they run outside it.
/// </remarks>
internal sealed class HnswGraphLifecycle
{
    /// <summary>A graph of at most this many vector components (1,600 × 640, 32,768 × 32) builds in milliseconds: inline, so the next search already uses it.</summary>
    private const long InlineBuildScalars = 1 << 20;

    /// <summary>Rows read from the matrix per hold of the read lock while building: a write waits for one batch's quantization at most.</summary>
    private const int BuildBatch = 4_096;

    /// <summary>Rows written during a build that are re-placed under the write lock, the graph swapped in with them; more are done outside it first.</summary>
    private const int SwapInUnderLock = 1_024;

    private readonly ReaderWriterLockSlim _lock;
    private readonly VectorMatrix _matrix;
    private readonly EmbeddedStoreOptions _options;
    private readonly string _path;
    private readonly string _owner;
    private readonly bool _readOnly;

    /// <summary>One thread saves the graph at a time; others skip rather than wait.</summary>
    private readonly Lock _saveGate = new();

    /// <summary>The graph being built off the lock, while searches scan (null when none); set and cleared under the write lock.</summary>
    private PendingGraph? _pending;

    /// <summary>The generation of the graph on disk (saved or loaded here), so an unchanged graph is not written again.</summary>
    private long _savedGeneration = -1;
    private int _saveAfterBuild;
    private int _builds;
    private int _loads;
    private long _buildTicks;
    private long _saveTicks;

    /// <param name="path">The graph's file.</param>
    /// <param name="owner">The collection identity the file is stamped with.</param>
    public HnswGraphLifecycle(ReaderWriterLockSlim gate, VectorMatrix matrix, EmbeddedStoreOptions options, string path, string owner, bool readOnly)
    {
        this._lock = gate;
        this._matrix = matrix;
        this._options = options;
        this._path = path;
        this._owner = owner;
        this._readOnly = readOnly;
    }

    /// <summary>The graph in use (searched only at the matrix's generation); null when none.</summary>
    public HnswVectorIndex? Graph { get; private set; }

    public int Builds => Volatile.Read(ref this._builds);

    public int Loads => Volatile.Read(ref this._loads);

    public TimeSpan LastBuildTime => TimeSpan.FromTicks(Interlocked.Read(ref this._buildTicks));

    public TimeSpan LastSaveTime => TimeSpan.FromTicks(Interlocked.Read(ref this._saveTicks));

    /// <summary>Whether neither a graph nor a build of one is there (a failed or never started build). Under the lock.</summary>
    public bool IsMissing => this.Graph is null && this._pending is null;

    /// <summary>
    /// Brings the graph to the matrix's generation after the matrix moved there from <paramref name="previous"/>:
    /// edits it when it was in step, or notes the rows for the graph being built; otherwise, past the threshold, loads
    /// the saved graph or builds one: inline when small, else on its own thread. Under the write lock.
    /// </summary>
    public void Update(long previous, IReadOnlyCollection<long> removed, IReadOnlyCollection<long> changed)
    {
        try
        {
            if (this.Graph is { } graph && graph.Generation == previous)
            {
                graph.Update(removed, changed, this._matrix);
                graph.Generation = this._matrix.Generation;
                return;
            }

            this.Graph?.Dispose();
            this.Graph = null;
            if (this._pending is { } pending)
            {
                pending.Touched.UnionWith(removed);
                pending.Touched.UnionWith(changed);
                return;
            }

            if (this._matrix.Count < this._options.ExactSearchThreshold)
            {
                return;
            }

            if ((long)this._matrix.Count * this._matrix.Dimensions > InlineBuildScalars)
            {
                this.StartBuild();
                return;
            }

            this.Graph = HnswVectorIndex.TryLoad(this._path, this._matrix.Generation, this._owner, this._matrix.RowIds, this._matrix.Dimensions, this._options);
            if (this.Graph is not null)
            {
                this._savedGeneration = this.Graph.Generation;
                Interlocked.Increment(ref this._loads);
                return;
            }

            var stopwatch = Stopwatch.StartNew();
            this.Graph = HnswVectorIndex.Build(this._matrix, this._options);
            this.CountBuild(stopwatch.Elapsed);
            Volatile.Write(ref this._saveAfterBuild, 1);
        }
        catch
        {
            // A graph half-edited is never searched: without one, search scans (exact) until the next write or reload rebuilds it.
            this.Graph?.Dispose();
            this.Graph = null;
            throw;
        }
    }

    /// <summary>The task of the graph being built, if any; <paramref name="cancel"/> asks it to stop.</summary>
    public Task? PendingBuild(bool cancel = false)
    {
        this._lock.EnterReadLock();
        try
        {
            if (cancel)
            {
                this._pending?.Cancellation.Cancel();
            }

            return this._pending?.Task;
        }
        finally
        {
            this._lock.ExitReadLock();
        }
    }

    /// <summary>Saves a graph just built, outside the write lock so searches go on meanwhile.</summary>
    public void SaveAfterBuild()
    {
        if (Interlocked.Exchange(ref this._saveAfterBuild, 0) == 1)
        {
            this.Save();
        }
    }

    /// <summary>
    /// Writes the graph when it is in step with the matrix and differs from the one on disk, under the read lock: searches
    /// go on, writes (which would change the graph) wait.
    /// </summary>
    public void Save()
    {
        if (this._readOnly || !this._saveGate.TryEnter())
        {
            return;
        }

        try
        {
            this._lock.EnterReadLock();
            try
            {
                var stopwatch = Stopwatch.StartNew();
                if (this.Graph is { } graph && graph.Generation == this._matrix.Generation && graph.Generation != this._savedGeneration
                    && graph.TrySave(this._path, this._owner))
                {
                    this._savedGeneration = graph.Generation;
                    Interlocked.Exchange(ref this._saveTicks, stopwatch.Elapsed.Ticks);
                }
            }
            finally
            {
                this._lock.ExitReadLock();
            }
        }
        finally
        {
            this._saveGate.Exit();
        }
    }

    /// <summary>Frees the graph. Under the write lock, which waits for searches still running in the native graph.</summary>
    public void Release()
    {
        this.Graph?.Dispose();
        this.Graph = null;
    }

    /// <summary>Starts loading or building the graph on its own thread from the rows as they are now. Under the write lock.</summary>
    private void StartBuild()
    {
        var pending = new PendingGraph([.. this._matrix.RowIds], this._matrix.Generation, Int8Quantizer.Fit(this._matrix));
        this._pending = pending;
        pending.Task = Task.Factory.StartNew(() => this.BuildOffTheLock(pending), pending.Cancellation.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>
    /// Loads the graph saved at the pending rows' generation, or builds it, reading the vectors a batch at a time under
    /// the read lock; then re-places the rows written meanwhile, in rounds outside the lock until few are left, and
    /// swaps the graph in under the write lock with the last of them; then saves it.
    /// </summary>
    private void BuildOffTheLock(PendingGraph pending)
    {
        var stopwatch = Stopwatch.StartNew();
        var token = pending.Cancellation.Token;
        HnswVectorIndex? graph = null;
        try
        {
            graph = HnswVectorIndex.TryLoad(this._path, pending.Generation, this._owner, pending.RowIds, this._matrix.Dimensions, this._options);
            bool loaded = graph is not null;
            if (graph is null)
            {
                graph = HnswVectorIndex.Create(this._matrix.Dimensions, pending.Quantizer, this._options, pending.RowIds.Length);
                for (int first = 0; first < pending.RowIds.Length; first += BuildBatch)
                {
                    token.ThrowIfCancellationRequested();
                    graph.Add(this.QuantizeUnderReadLock(graph, new ArraySegment<long>(pending.RowIds, first, Math.Min(BuildBatch, pending.RowIds.Length - first))));
                }
            }

            while (true)
            {
                token.ThrowIfCancellationRequested();
                long[] touched;
                this._lock.EnterWriteLock();
                try
                {
                    if (pending.Touched.Count <= SwapInUnderLock)
                    {
                        graph.Update([], pending.Touched, this._matrix);
                        graph.Generation = this._matrix.Generation;
                        this.Graph = graph;
                        this._pending = null;
                        graph = null;
                        if (loaded)
                        {
                            this._savedGeneration = pending.Generation;
                            Interlocked.Increment(ref this._loads);
                        }
                        else
                        {
                            this.CountBuild(stopwatch.Elapsed);
                        }

                        break;
                    }

                    touched = [.. pending.Touched];
                    pending.Touched.Clear();
                }
                finally
                {
                    this._lock.ExitWriteLock();
                }

                // Rows deleted since are only removed; the others get the vector they have now.
                graph.Remove(touched);
                graph.Add(this.QuantizeUnderReadLock(graph, touched));
            }
        }
        catch
        {
            this._lock.EnterWriteLock();
            try
            {
                if (this._pending == pending)
                {
                    this._pending = null;
                }
            }
            finally
            {
                this._lock.ExitWriteLock();
            }

            throw;
        }
        finally
        {
            graph?.Dispose();
        }

        this.Save();
    }

    private HnswVectorIndex.QuantizedRows QuantizeUnderReadLock(HnswVectorIndex graph, IEnumerable<long> rowIds)
    {
        this._lock.EnterReadLock();
        try
        {
            return graph.Quantize(rowIds, this._matrix);
        }
        finally
        {
            this._lock.ExitReadLock();
        }
    }

    private void CountBuild(TimeSpan elapsed)
    {
        Interlocked.Exchange(ref this._buildTicks, elapsed.Ticks);
        Interlocked.Increment(ref this._builds);
    }
}
