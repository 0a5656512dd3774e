using System.Numerics.Tensors;

namespace T5Gemma2.Rag.Indexer.Stores.Embedded;

/// <summary>
/// Maps unit vectors to signed bytes with one scale for the whole collection (x·scale, rounded, clamped to ±127), so
/// that the byte dot product ranks as the float one does: the HNSW graph stores and compares these, a quarter of the
/// bytes of float32, and the candidates it finds are re-ranked on the exact float vectors.
/// </summary>
/// <remarks>
/// One scale rather than one per vector: a per-vector scale would weigh each stored vector differently in the dot
/// product. It is fitted to the vectors the graph is built from (a high quantile of |component|, so a few outlying
/// components clip rather than coarsen every other one) and kept with the graph, so later writes and queries use it too.
/// </remarks>
internal readonly record struct Int8Quantizer(float Scale)
{
    /// <summary>The share of components below the fitted bound; the rest are clipped to ±127.</summary>
    private const double Quantile = 0.9999;

    /// <summary>At most this many components are sampled to fit the scale: a quantile is stable long before that.</summary>
    private const int Sample = 1 << 20;

    /// <summary>The scale for the vectors of <paramref name="matrix"/>: components up to its 99.99th percentile of |x| map into ±127.</summary>
    public static Int8Quantizer Fit(VectorMatrix matrix)
    {
        int rows = matrix.Count;
        if (rows == 0)
        {
            return new Int8Quantizer(127f);
        }

        // Evenly spaced rows, whole, so the sample covers every dimension.
        int sampledRows = Math.Clamp(Sample / matrix.Dimensions, 1, rows);
        var magnitudes = new float[(long)sampledRows * matrix.Dimensions];
        IReadOnlyList<long> rowIds = matrix.RowIds;
        for (int i = 0; i < sampledRows; i++)
        {
            long rowId = rowIds[(int)((long)i * rows / sampledRows)];
            TensorPrimitives.Abs(matrix.Vector(rowId), magnitudes.AsSpan(i * matrix.Dimensions, matrix.Dimensions));
        }

        Array.Sort(magnitudes);
        float bound = magnitudes[(int)Math.Min(magnitudes.Length - 1, (long)(magnitudes.Length * Quantile))];

        // A zero bound (all-zero vectors) would make the scale infinite; any scale serves zeros.
        return new Int8Quantizer(bound > 0 ? 127f / bound : 127f);
    }

    /// <summary>Writes the bytes of <paramref name="vector"/> into <paramref name="destination"/>, using <paramref name="scratch"/> (same length) for the scaled floats.</summary>
    public void Quantize(ReadOnlySpan<float> vector, Span<float> scratch, Span<sbyte> destination)
    {
        TensorPrimitives.Multiply(vector, this.Scale, scratch);
        TensorPrimitives.Round(scratch, scratch);

        // −128 is left out: symmetric range, and some int8 dot kernels negate their operands.
        TensorPrimitives.Clamp(scratch, -127f, 127f, scratch);
        TensorPrimitives.ConvertSaturating(scratch, destination);
    }
}
