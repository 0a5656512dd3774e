using System.Numerics.Tensors;

namespace T5Gemma2.Rag.Indexer.Stores.Embedded;

/// <summary>
/// The collection's vectors in one contiguous array, searched exactly with SIMD dot products: exact search at memory
/// speed, and the source an approximate index is built from. Rows are keyed by the SQLite rowid of their passage.
/// </summary>
/// <remarks>Not thread-safe for writes; <see cref="EmbeddedPassageCollection"/> guards it with its lock (reads may run in parallel).</remarks>
internal sealed class VectorMatrix
{
    private readonly int _dimensions;
    private readonly Dictionary<long, int> _rowOf = [];
    private float[] _data;
    private long[] _rowIds;

    public VectorMatrix(int dimensions, int capacity = 1024)
    {
        this._dimensions = dimensions;
        capacity = Math.Max(capacity, 16);
        this._data = new float[(long)capacity * dimensions];
        this._rowIds = new long[capacity];
    }

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

    /// <summary>Grows the array once to hold <paramref name="rows"/> rows, sparing a load of known size the copies of doubling.</summary>
    public void EnsureCapacity(int rows)
    {
        if (rows > this._rowIds.Length)
        {
            Array.Resize(ref this._rowIds, rows);
            Array.Resize(ref this._data, checked(rows * this._dimensions));
        }
    }

    public void Add(long rowId, ReadOnlySpan<float> vector)
    {
        if (this._rowOf.ContainsKey(rowId))
        {
            this.Remove(rowId);
        }

        if (this.Count == this._rowIds.Length)
        {
            this.EnsureCapacity(checked(this._rowIds.Length * 2));
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
            for (int row = 0; row < this.Count; row++)
            {
                long rowId = this._rowIds[row];
                if (allowed is null || allowed.Contains(rowId))
                {
                    Offer(heap, k, rowId, TensorPrimitives.Dot(query, this.Row(row)));
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

    private ReadOnlySpan<float> Row(int row) => this._data.AsSpan(row * this._dimensions, this._dimensions);

    private Span<float> RowSpan(int row) => this._data.AsSpan(row * this._dimensions, this._dimensions);
}
