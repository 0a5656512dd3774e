using System.Runtime.InteropServices;

namespace T5Gemma2.Rag.Encoder;

/// <summary>
/// What the tensor file formats share (safetensors checkpoints, ONNX initializers and external data): element counts
/// of shapes and floats written as little-endian bytes.
/// </summary>
internal static class TensorData
{
    /// <summary>The number of elements of a tensor of this shape (1 for a scalar); overflow throws.</summary>
    public static long CountElements(IEnumerable<long> shape) => shape.Aggregate(1L, (a, b) => checked(a * b));

    /// <summary>
    /// Writes floats as little-endian bytes in slices: a span of bytes cannot exceed 2 GB, and a 4b-size embedding is 2.7 GB.
    /// </summary>
    public static void WriteFloats(Stream stream, ReadOnlySpan<float> values)
    {
        ArgumentNullException.ThrowIfNull(stream);
        const int Slice = 1 << 26;
        for (int start = 0; start < values.Length; start += Slice)
        {
            stream.Write(MemoryMarshal.AsBytes(values.Slice(start, Math.Min(Slice, values.Length - start))));
        }
    }
}
