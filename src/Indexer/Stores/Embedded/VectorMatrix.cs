using System.Numerics.Tensors;

namespace T5Gemma2.Rag.Indexer.Stores.Embedded;

/// <summary>
/// The collection's vectors in one contiguous array, searched exactly with SIMD dot products: exact search at memory
/// speed, and the source an approximate index is built from. Rows are keyed by the SQLite rowid of their passage.
/// </summary>
/// <remarks>Not thread-safe; <see cref="EmbeddedPassageCollection"/> guards it with its lock.</remarks>
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

    /// <summary>The store's write generation these rows reflect.</summary>
    public long Generation { get; set; } = -1;

    public void Clear()
    {
        this.Count = 0;
        this._rowOf.Clear();
    }

    public void Add(long rowId, ReadOnlySpan<float> vector)
    {
        if (this._rowOf.ContainsKey(rowId))
        {
            this.Remove(rowId);
        }

        if (this.Count == this._rowIds.Length)
        {
            int capacity = checked(this._rowIds.Length * 2);
            Array.Resize(ref this._rowIds, capacity);
            Array.Resize(ref this._data, checked(capacity * this._dimensions));
        }

        vector.CopyTo(this._data.AsSpan(this.Count * this._dimensions, this._dimensions));
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
            this._data.AsSpan(last * this._dimensions, this._dimensions).CopyTo(this._data.AsSpan(row * this._dimensions, this._dimensions));
            this._rowIds[row] = this._rowIds[last];
            this._rowOf[this._rowIds[row]] = row;
        }

        this.Count--;
    }

    /// <summary>The k rows with the highest dot product with the query, best first; <paramref name="allowed"/> restricts the rows (a filter).</summary>
    public List<(long RowId, float Score)> Nearest(ReadOnlySpan<float> query, int k, IReadOnlySet<long>? allowed)
    {
        var heap = new PriorityQueue<long, float>(k + 1);
        for (int row = 0; row < this.Count; row++)
        {
            long rowId = this._rowIds[row];
            if (allowed is not null && !allowed.Contains(rowId))
            {
                continue;
            }

            float score = TensorPrimitives.Dot(query, this._data.AsSpan(row * this._dimensions, this._dimensions));
            if (heap.Count < k)
            {
                heap.Enqueue(rowId, score);
            }
            else if (heap.TryPeek(out _, out float worst) && score > worst)
            {
                heap.DequeueEnqueue(rowId, score);
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
}
