using T5Gemma2.Rag.Encoder.Onnx.Graph;

namespace T5Gemma2.Rag.Encoder.Conversion;

/// <summary>
/// Weight-only block quantization through ONNX Runtime's MatMulNBits: each run of <see cref="BlockSize"/> weights of
/// an output channel gets its own scale and zero point (asymmetric), stored as 8 or 4 bits (<see cref="BlockQuantizer"/>).
/// The matrix product runs with fp32 activations (accuracy_level 1): weights are dequantized, activations never are.
/// </summary>
internal sealed class BlockQuantizedLinear : LinearWeights
{
    /// <summary>Weights per quantization block along the input dimension.</summary>
    public const int BlockSize = 32;

    private readonly int _bits;
    private readonly Func<string, bool> _keepsEightBits;

    private BlockQuantizedLinear(int bits, Func<string, bool> keepsEightBits)
    {
        this._bits = bits;
        this._keepsEightBits = keepsEightBits;
    }

    public override string Name => this._bits == 8 ? "int8" : "int4";

    /// <summary>Every layer at the format's width: the decoder graphs, where 8-bit MatMulNBits has no fast one-row kernel.</summary>
    public static LinearWeights For(WeightFormat format) => format switch
    {
        WeightFormat.Int8 => new BlockQuantizedLinear(8, _ => false),
        WeightFormat.Int4 => new BlockQuantizedLinear(4, _ => false),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "expected int8 or int4"),
    };

    /// <summary>
    /// The encoder graph: int4 keeps 8 bits for the layers the pooled embedding is most sensitive to
    /// (<see cref="KeepsEightBitsInInt4Encoder"/>), for 1.16× int4's weight bytes.
    /// </summary>
    public static LinearWeights ForEncoder(WeightFormat format) =>
        format == WeightFormat.Int4 ? new BlockQuantizedLinear(4, KeepsEightBitsInInt4Encoder) : For(format);

    /// <summary>
    /// Measured on the random 270m model by quantizing one kind of layer at a time (README, "Converting T5Gemma 2"):
    /// v_proj and o_proj give three quarters of the int4 embedding's error in a sixth of the weights, and the first
    /// layer's error outweighs any later one's, as everything after it computes from it.
    /// </summary>
    /// <param name="weight">The weight's name in the graph, such as <c>layers.0.self_attn.v_proj.weight</c>.</param>
    public static bool KeepsEightBitsInInt4Encoder(string weight) =>
        weight.StartsWith("layers.0.", StringComparison.Ordinal)
        || weight.EndsWith(".self_attn.v_proj.weight", StringComparison.Ordinal)
        || weight.EndsWith(".self_attn.o_proj.weight", StringComparison.Ordinal);

    /// <summary>
    /// The vision tower: int4 keeps 8 bits for the attention's products (the fused q/k/v and out_proj) and the first
    /// layer, the tower's counterpart of <see cref="KeepsEightBitsInInt4Encoder"/>; the MLP, two thirds of the weights,
    /// stays at 4 bits. Measured on the random 270m model's so400m tower (README, "The vision graph").
    /// </summary>
    public static LinearWeights ForVisionTower(WeightFormat format) =>
        format == WeightFormat.Int4 ? new BlockQuantizedLinear(4, KeepsEightBitsInInt4Tower) : For(format);

    /// <param name="weight">The weight's name in the vision graph, such as <c>encoder.layers.3.self_attn.qkv_proj.weight</c>.</param>
    public static bool KeepsEightBitsInInt4Tower(string weight) =>
        weight.StartsWith("encoder.layers.0.", StringComparison.Ordinal) || weight.Contains(".self_attn.", StringComparison.Ordinal);

    public override int BitsFor(string name) => this._bits == 4 && this._keepsEightBits(name) ? 8 : this._bits;

    public override string Apply(OnnxGraph graph, string x, string name, long[] shape, Func<float[]> read)
    {
        int n = (int)shape[0], k = (int)shape[1];
        int bits = this.BitsFor(name);
        int blocks = QuantizedWeight.BlocksPerRow(k, BlockSize);
        int blobBytes = QuantizedWeight.BlobBytes(bits, BlockSize);
        int zeroPointBytes = QuantizedWeight.ZeroPointBytesPerRow(bits, blocks);

        // One pass over the weight fills all three tensors when the first is written; the graph writes initializers in
        // the order they were added, so after the zero points nothing needs them and they are let go.
        QuantizedWeight? quantized = null;
        QuantizedWeight Get() => quantized ??= BlockQuantizer.Quantize(read(), n, k, bits, BlockSize);
        string data = graph.Initializer(name + "_q" + bits, OnnxTensor.Deferred(OnnxDataType.UInt8, [n, blocks, blobBytes], (long)n * blocks * blobBytes, s => s.Write(Get().Data)));
        string scales = graph.Initializer(name + "_scales", OnnxTensor.Deferred(OnnxDataType.Float, [(long)n * blocks], (long)n * blocks * 4, s => TensorData.WriteFloats(s, Get().Scales)));
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
            OnnxAttribute.Int("bits", bits),
            OnnxAttribute.Int("block_size", BlockSize),
            OnnxAttribute.Int("accuracy_level", 1));
    }
}
