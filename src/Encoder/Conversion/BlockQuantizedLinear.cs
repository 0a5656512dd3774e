using T5Gemma2.Rag.Encoder.Onnx.Graph;

namespace T5Gemma2.Rag.Encoder.Conversion;

/// <summary>
/// Weight-only block quantization through ONNX Runtime's MatMulNBits: each run of <see cref="BlockSize"/> weights of
/// an output channel gets its own scale and zero point (asymmetric, round to nearest), stored as 8 or 4 bits. The
/// matrix product runs with fp32 activations (accuracy_level 1): weights are dequantized, activations never are.
/// </summary>
internal sealed class BlockQuantizedLinear : LinearWeights
{
    /// <summary>Weights per quantization block along the input dimension.</summary>
    public const int BlockSize = 32;

    private readonly int _bits;

    private BlockQuantizedLinear(int bits)
    {
        this._bits = bits;
    }

    public override string Name => this._bits == 8 ? "int8" : "int4";

    public static LinearWeights For(WeightFormat format) => format switch
    {
        WeightFormat.Int8 => new BlockQuantizedLinear(8),
        WeightFormat.Int4 => new BlockQuantizedLinear(4),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "expected int8 or int4"),
    };

    public override string Apply(OnnxGraph graph, string x, string name, long[] shape, Func<float[]> read)
    {
        int n = (int)shape[0], k = (int)shape[1];
        int blocks = (k + BlockSize - 1) / BlockSize;
        int blobBytes = BlockSize * this._bits / 8;
        int zeroPointBytes = this._bits == 8 ? blocks : (blocks + 1) / 2;

        // One pass over the weight fills all three tensors when the first is written; the graph writes initializers in
        // the order they were added, so after the zero points nothing needs them and they are let go.
        Quantized? quantized = null;
        Quantized Get() => quantized ??= this.Quantize(read(), n, k, blocks, blobBytes, zeroPointBytes);
        string data = graph.Initializer(name + "_q" + this._bits, OnnxTensor.Deferred(OnnxDataType.UInt8, [n, blocks, blobBytes], (long)n * blocks * blobBytes, s => s.Write(Get().Data)));
        string scales = graph.Initializer(name + "_scales", OnnxTensor.Deferred(OnnxDataType.Float, [(long)n * blocks], (long)n * blocks * 4, s => OnnxTensor.WriteFloats(s, Get().Scales)));
        string zeroPoints = graph.Initializer(name + "_zero_points", OnnxTensor.Deferred(OnnxDataType.UInt8, [(long)n * zeroPointBytes], (long)n * zeroPointBytes, s =>
        {
            s.Write(Get().ZeroPoints);
            quantized = null;
        }));
        return graph.OpIn(
            OnnxGraph.MicrosoftDomain,
            "MatMulNBits",
            [x, data, scales, zeroPoints],
            OnnxAttribute.Int("K", k),
            OnnxAttribute.Int("N", n),
            OnnxAttribute.Int("bits", this._bits),
            OnnxAttribute.Int("block_size", BlockSize),
            OnnxAttribute.Int("accuracy_level", 1));
    }

    private Quantized Quantize(float[] w, int n, int k, int blocks, int blobBytes, int zeroPointBytes)
    {
        int levels = (1 << this._bits) - 1;
        var data = new byte[(long)n * blocks * blobBytes];
        var scales = new float[(long)n * blocks];
        var zeroPoints = new byte[(long)n * zeroPointBytes];
        for (int row = 0; row < n; row++)
        {
            for (int block = 0; block < blocks; block++)
            {
                int start = block * BlockSize, end = Math.Min(k, start + BlockSize);
                float min = 0, max = 0; // zero is always representable, as padding needs
                for (int i = start; i < end; i++)
                {
                    min = Math.Min(min, w[(long)row * k + i]);
                    max = Math.Max(max, w[(long)row * k + i]);
                }

                float scale = max > min ? (max - min) / levels : 1f;
                int zeroPoint = Math.Clamp((int)MathF.Round(-min / scale), 0, levels);
                scales[(long)row * blocks + block] = scale;
                this.Store(zeroPoints, (long)row * zeroPointBytes, block, zeroPoint);
                long blob = ((long)row * blocks + block) * blobBytes;
                for (int i = 0; i < BlockSize; i++)
                {
                    float value = start + i < end ? w[(long)row * k + start + i] : 0f;
                    int q = Math.Clamp((int)MathF.Round(value / scale) + zeroPoint, 0, levels);
                    this.Store(data, blob, i, q);
                }
            }
        }

        return new Quantized(data, scales, zeroPoints);
    }

    /// <summary>Stores a quantized value at element <paramref name="index"/>: one byte each for 8 bits, low nibble first for 4.</summary>
    private void Store(byte[] target, long offset, int index, int value)
    {
        if (this._bits == 8)
        {
            target[offset + index] = (byte)value;
            return;
        }

        long position = offset + index / 2;
        target[position] = index % 2 == 0 ? (byte)((target[position] & 0xF0) | value) : (byte)((target[position] & 0x0F) | (value << 4));
    }

    private sealed record Quantized(byte[] Data, float[] Scales, byte[] ZeroPoints);
}
