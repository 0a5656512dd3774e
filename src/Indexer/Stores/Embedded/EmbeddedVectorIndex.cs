using System.Numerics.Tensors;
using Microsoft.Data.Sqlite;
using static T5Gemma2.Rag.Indexer.Stores.Embedded.EmbeddedErrors;
using static T5Gemma2.Rag.Indexer.Stores.Embedded.EmbeddedSql;

namespace T5Gemma2.Rag.Indexer.Stores.Embedded;

/// <summary>
/// An embedded collection's vectors in memory: the <see cref="VectorMatrix"/> of every passage at one generation of
/// the file, its HNSW graph (<see cref="HnswGraphLifecycle"/>), and the lock that guards both. Searches hold the read
/// lock, writes and reloads the write lock; the matrix is used only when it holds the file's generation.
/// </summary>
internal sealed class EmbeddedVectorIndex
{
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly VectorMatrix _matrix;
    private readonly EmbeddedStoreOptions _options;
    private readonly HnswGraphLifecycle _graphs;

    /// <param name="graphPath">Where the HNSW graph is saved.</param>
    /// <param name="owner">The collection identity the saved graph is stamped with.</param>
    public EmbeddedVectorIndex(int dimensions, EmbeddedStoreOptions options, string graphPath, string owner, bool readOnly)
    {
        this._matrix = new VectorMatrix(dimensions);
        this._options = options;
        this._graphs = new HnswGraphLifecycle(this._lock, this._matrix, options, graphPath, owner, readOnly);
    }

    /// <summary>The file generation the matrix holds. Under the lock.</summary>
    public long Generation => this._matrix.Generation;

    /// <summary>Set under the write lock by <see cref="Close"/>; a search that waited for the lock then finds it.</summary>
    public bool IsClosed { get; private set; }

    public HnswGraphLifecycle Graphs => this._graphs;

    /// <summary>True when dense search goes through the HNSW graph: one is built or loaded and in step with the vectors.</summary>
    public bool GraphReady
    {
        get
        {
            this._lock.EnterReadLock();
            try
            {
                return this._graphs.Graph is { } graph && graph.Generation == this._matrix.Generation;
            }
            finally
            {
                this._lock.ExitReadLock();
            }
        }
    }

    public void EnterRead() => this._lock.EnterReadLock();

    public void ExitRead() => this._lock.ExitReadLock();

    public void EnterWrite() => this._lock.EnterWriteLock();

    public void ExitWrite() => this._lock.ExitWriteLock();

    /// <summary>A unit-length copy (cosine = dot product); a zero vector stays zero.</summary>
    public static float[] Normalized(ReadOnlySpan<float> vector)
    {
        float[] copy = vector.ToArray();
        float norm = TensorPrimitives.Norm(copy);
        if (norm > 0 && MathF.Abs(norm - 1) > 1e-6f)
        {
            TensorPrimitives.Divide(copy, norm, copy);
        }

        return copy;
    }

    /// <summary>
    /// Dense search at the matrix's generation: through the HNSW graph when the collection is past the threshold and any
    /// filter leaves a large share of it; otherwise a scan, which is exact and, over that few vectors, as fast. Under the read lock.
    /// </summary>
    public List<(long RowId, float Score)> Nearest(float[] query, int k, HashSet<long>? allowed, bool exact)
    {
        int rows = this._matrix.Count;
        var graph = this._graphs.Graph;
        bool scan = exact
            || graph is null
            || graph.Generation != this._matrix.Generation
            || rows < this._options.ExactSearchThreshold
            || (allowed is not null && allowed.Count < Math.Max(this._options.ExactSearchThreshold, rows / 20));
        return scan ? this._matrix.Nearest(query, k, allowed) : graph!.Nearest(query, k, allowed, this._matrix);
    }

    /// <summary>
    /// Applies a write just committed (the file moved from <paramref name="before"/> to the next generation) when the
    /// matrix was in step with the file; otherwise the next search reloads it. Under the write lock.
    /// </summary>
    public void Apply(long before, List<long> removed, List<(long RowId, float[] Vector)> added)
    {
        if (this._matrix.Generation == before)
        {
            removed.ForEach(this._matrix.Remove);
            added.ForEach(a => this._matrix.Add(a.RowId, a.Vector));
            this._matrix.Generation = before + 1;
            this._graphs.Update(before, removed, [.. added.Select(a => a.RowId)]);
        }
    }

    /// <summary>Brings the matrix (and the graph) to the file's generation, reading only what differs; <paramref name="path"/> names the file in errors.</summary>
    public void Reload(Func<SqliteConnection> connect, string path)
    {
        this._lock.EnterWriteLock();
        try
        {
            using var connection = connect();
            using var transaction = connection.BeginTransaction(deferred: true);
            long generation = ReadGeneration(connection, transaction);
            if (generation == this._matrix.Generation)
            {
                // In step; but a graph whose build failed (or was never started) is started again.
                if (this._graphs.IsMissing)
                {
                    this._graphs.Update(generation, [], []);
                }

                return;
            }

            // Only what differs changes, so the graph (when in step with the old rows) follows with a few edits.
            long previous = this._matrix.Generation;
            this._matrix.EnsureCapacity(checked((int)Scalar(connection, transaction, "SELECT count(*) FROM passages")));
            using var command = Command(connection, transaction, "SELECT rowid, vector FROM passages");
            using var reader = command.ExecuteReader();
            var (removed, changed) = this._matrix.Synchronize(ReadVectors(reader));
            this._matrix.Generation = generation;
            this._graphs.Update(previous, removed, changed);
        }
        catch (SqliteException ex) when (IsDamaged(ex))
        {
            throw Damaged(path, ex);
        }
        finally
        {
            this._lock.ExitWriteLock();
        }
    }

    /// <summary>Stops a build in progress, saves the graph when asked, and frees it.</summary>
    public void Close(bool saveGraph)
    {
        // A build in progress is abandoned (the next open starts again); it takes the lock, so it is waited for outside it.
        if (this._graphs.PendingBuild(cancel: true) is { } build)
        {
            try
            {
                build.Wait();
            }
            catch (AggregateException)
            {
                // Cancelled, or failed: either way there is no graph to keep.
            }
        }

        if (saveGraph)
        {
            this._graphs.Save();
        }

        // The write lock waits for searches still running in the native graph before it is freed.
        this._lock.EnterWriteLock();
        try
        {
            this.IsClosed = true;
            this._graphs.Release();
        }
        finally
        {
            this._lock.ExitWriteLock();
        }

        // The lock is not disposed: a search that was waiting for it gets it now and must be able to release it (it
        // then finds the collection closed and throws ObjectDisposedException). It holds no native resource.
    }
}
