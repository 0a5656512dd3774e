using System.Runtime.InteropServices;

namespace T5Gemma2.Rag.Encoder.Onnx.Graph;

/// <summary>Constant tensor data for a graph initializer: its type, shape and little-endian bytes, produced on demand.</summary>
public sealed class OnnxTensor
{
    private readonly Action<Stream> _write;

    private OnnxTensor(OnnxDataType dataType, long[] dims, long byteLength, Action<Stream> write)
    {
        this.DataType = dataType;
        this.Dims = dims;
        this.ByteLength = byteLength;
        this._write = write;
    }

    public OnnxDataType DataType { get; }

    public IReadOnlyList<long> Dims { get; }

    public long ByteLength { get; }

    public static OnnxTensor FromFloats(float[] values, params long[] dims)
    {
        CheckCount(dims, values.Length);
        return new OnnxTensor(OnnxDataType.Float, dims, (long)values.Length * sizeof(float), stream => TensorData.WriteFloats(stream, values));
    }

    public static OnnxTensor FromInt64s(long[] values, params long[] dims)
    {
        CheckCount(dims, values.Length);
        return new OnnxTensor(OnnxDataType.Int64, dims, (long)values.Length * sizeof(long), stream => stream.Write(MemoryMarshal.AsBytes(values.AsSpan())));
    }

    public static OnnxTensor FromBytes(OnnxDataType dataType, byte[] values, params long[] dims) =>
        new(dataType, dims, values.Length, stream => stream.Write(values));

    /// <summary>A tensor whose bytes are produced by <paramref name="write"/> when the model is saved (weights read lazily).</summary>
    public static OnnxTensor Deferred(OnnxDataType dataType, long[] dims, long byteLength, Action<Stream> write) =>
        new(dataType, dims, byteLength, write);

    public void WriteTo(Stream stream) => this._write(stream);

    private static void CheckCount(long[] dims, int count)
    {
        long expected = TensorData.CountElements(dims);
        if (expected != count)
        {
            throw new ArgumentException($"tensor of shape [{string.Join(", ", dims)}] needs {expected} values, got {count}.", nameof(dims));
        }
    }
}
