using System.Numerics.Tensors;

namespace T5Gemma2.Rag.Indexer.Stores.Embedded;

/// <summary>
/// The collection's vectors in contiguous chunks of whole rows, searched exactly with SIMD dot products: exact search
/// at memory speed, and the source an approximate index is built from. Rows are keyed by the SQLite rowid of their passage.
/// </summary>
/// <remarks>
/// Chunks, because one .NET array holds at most 2^31 elements: one float[] capped a collection at 839k passages of
/// 2,560 dimensions. A chunk holds <see cref="DefaultChunkFloats"/> floats at most (whole rows), so a row's place is a
/// chunk and an offset inside it, each an int, and 10M × 640 (6.4 billion floats) is addressable. Only the last
/// chunk grows by doubling; the others are full.
/// </remarks>
/// <remarks>Not thread-safe for writes; <see cref="EmbeddedPassageCollection"/> guards it with its lock (reads may run in parallel).</remarks>
internal sealed class VectorMatrix
{
    /// <summary>64 Mi floats (256 MiB) per chunk: few enough chunks that the scan's per-chunk cost vanishes.</summary>
    public const int DefaultChunkFloats = 1 << 26;

    private readonly int _dimensions;
    private readonly int _rowsPerChunk;
    private readonly Dictionary<long, int> _rowOf = [];
    private readonly List<float[]> _chunks = [];
    private long[] _rowIds = [];

    /// <param name="dimensions">Floats per row.</param>
    /// <param name="capacity">Rows to make room for now.</param>
    /// <param name="chunkFloats">Floats per chunk at most (rounded down to whole rows, one row at least); tests set it small.</param>
    public VectorMatrix(int dimensions, int capacity = 1024, int chunkFloats = DefaultChunkFloats)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        this._dimensions = dimensions;
        this._rowsPerChunk = Math.Max(1, chunkFloats / dimensions);
        this.EnsureCapacity(Math.Max(capacity, 16));
    }

    /// <summary>Rows per chunk.</summary>
    public int RowsPerChunk => this._rowsPerChunk;

    /// <summary>Rows there is room for without growing.</summary>
    public int Capacity => this._rowIds.Length;

    public int Count { get; private set; }

    public int Dimensions => this._dimensions;

    /// <summary>The store's write generation these rows reflect.</summary>
    public long Generation { get; set; } = -1;

    /// <summary>The rowid of every row, in row order.</summary>
    public IReadOnlyList<long> RowIds => new ArraySegment<long>(this._rowIds, 0, this.Count);

    /// <summary>The vector stored for <paramref name="rowId"/>, which must be present.</summary>
    public ReadOnlySpan<float> Vector(long rowId) => this.Row(this._rowOf[rowId]);

    /// <summary>The vector stored for <paramref name="rowId"/>; false when there is none.</summary>
    public bool TryGetVector(long rowId, out ReadOnlySpan<float> vector)
    {
        bool found = this._rowOf.TryGetValue(rowId, out int row);
        vector = found ? this.Row(row) : default;
        return found;
    }

    /// <summary>Grows once to hold <paramref name="rows"/> rows, sparing a load of known size the copies of doubling.</summary>
    public void EnsureCapacity(int rows)
    {
        if (rows <= this._rowIds.Length)
        {
            return;
        }

        Array.Resize(ref this._rowIds, rows);
        int remaining = rows;
        for (int chunk = 0; remaining > 0; chunk++)
        {
            int chunkRows = Math.Min(remaining, this._rowsPerChunk);
            remaining -= chunkRows;
            if (chunk == this._chunks.Count)
            {
                this._chunks.Add(new float[chunkRows * this._dimensions]);
            }
            else if (this._chunks[chunk].Length < chunkRows * this._dimensions)
            {
                var grown = this._chunks[chunk];
                Array.Resize(ref grown, chunkRows * this._dimensions);
                this._chunks[chunk] = grown;
            }
        }
    }

    /// <summary>Where row <paramref name="row"/> lies: its chunk and the offset of its first float in it, both ints at any size.</summary>
    public (int Chunk, int Offset) Locate(int row) => (row / this._rowsPerChunk, row % this._rowsPerChunk * this._dimensions);

    public void Add(long rowId, ReadOnlySpan<float> vector)
    {
        if (this._rowOf.ContainsKey(rowId))
        {
            this.Remove(rowId);
        }

        if (this.Count == this._rowIds.Length)
        {
            this.EnsureCapacity((int)Math.Min(Array.MaxLength, this._rowIds.Length * 2L));
        }

        vector.CopyTo(this.RowSpan(this.Count));
        this._rowIds[this.Count] = rowId;
        this._rowOf[rowId] = this.Count;
        this.Count++;
    }

    /// <summary>Removes a row by moving the last row into its place (order does not matter for search).</summary>
    public void Remove(long rowId)
    {
        if (!this._rowOf.Remove(rowId, out int row))
        {
            return;
        }

        int last = this.Count - 1;
        if (row != last)
        {
            this.Row(last).CopyTo(this.RowSpan(row));
            this._rowIds[row] = this._rowIds[last];
            this._rowOf[this._rowIds[row]] = row;
        }

        this.Count--;
    }

    /// <summary>
    /// Makes the rows equal to <paramref name="rows"/> (the file's, read in full), touching only what differs, and
    /// says what changed so an index built on these rows can follow with a few edits instead of a rebuild.
    /// </summary>
    /// <param name="rows">Every (rowid, vector) of the file; each vector is copied, so the caller may reuse its array.</param>
    /// <returns>Rowids no longer present, and rowids added or whose vector changed.</returns>
    public (List<long> Removed, List<long> Changed) Synchronize(IEnumerable<(long RowId, float[] Vector)> rows)
    {
        int before = this.Count;
        var seen = new bool[before];
        var changed = new List<long>();
        foreach (var (rowId, vector) in rows)
        {
            if (this._rowOf.TryGetValue(rowId, out int row) && row < before)
            {
                seen[row] = true;
                if (!this.Row(row).SequenceEqual(vector))
                {
                    vector.CopyTo(this.RowSpan(row));
                    changed.Add(rowId);
                }
            }
            else
            {
                this.Add(rowId, vector);
                changed.Add(rowId);
            }
        }

        var removed = new List<long>();
        for (int row = 0; row < before; row++)
        {
            if (!seen[row])
            {
                removed.Add(this._rowIds[row]);
            }
        }

        removed.ForEach(this.Remove);
        return (removed, changed);
    }

    /// <summary>The k rows with the highest dot product with the query, best first; <paramref name="allowed"/> restricts the rows (a filter).</summary>
    public List<(long RowId, float Score)> Nearest(ReadOnlySpan<float> query, int k, IReadOnlySet<long>? allowed)
    {
        var heap = new PriorityQueue<long, float>(k + 1);
        if (allowed is not null && allowed.Count < this.Count)
        {
            // A filter narrower than the collection: visit its rows only, not every row asking whether it is allowed.
            foreach (long rowId in allowed)
            {
                if (this._rowOf.TryGetValue(rowId, out int row))
                {
                    Offer(heap, k, rowId, TensorPrimitives.Dot(query, this.Row(row)));
                }
            }
        }
        else
        {
            // Chunk by chunk, each a plain run of rows, so the scan is as tight as over one array.
            for (int chunk = 0, first = 0; first < this.Count; chunk++, first += this._rowsPerChunk)
            {
                float[] data = this._chunks[chunk];
                int rows = Math.Min(this._rowsPerChunk, this.Count - first);
                for (int i = 0; i < rows; i++)
                {
                    long rowId = this._rowIds[first + i];
                    if (allowed is null || allowed.Contains(rowId))
                    {
                        Offer(heap, k, rowId, TensorPrimitives.Dot(query, new ReadOnlySpan<float>(data, i * this._dimensions, this._dimensions)));
                    }
                }
            }
        }

        var result = new List<(long, float)>(heap.Count);
        while (heap.TryDequeue(out long rowId, out float score))
        {
            result.Add((rowId, score));
        }

        result.Reverse();
        return result;
    }

    private static void Offer(PriorityQueue<long, float> heap, int k, long rowId, float score)
    {
        if (heap.Count < k)
        {
            heap.Enqueue(rowId, score);
        }
        else if (heap.TryPeek(out _, out float worst) && score > worst)
        {
            heap.DequeueEnqueue(rowId, score);
        }
    }

    private ReadOnlySpan<float> Row(int row) => this.RowSpan(row);

    private Span<float> RowSpan(int row)
    {
        var (chunk, offset) = this.Locate(row);
        return this._chunks[chunk].AsSpan(offset, this._dimensions);
    }
}
