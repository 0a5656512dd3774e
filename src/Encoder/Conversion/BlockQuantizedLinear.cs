using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Encoder.Onnx.Graph;

namespace T5Gemma2.Rag.Encoder.Conversion;

/// <summary>Weight-only block quantization through ONNX Runtime's MatMulNBits (int8 / int4, fp32 activations).</summary>
internal sealed class BlockQuantizedLinear : LinearWeights
{
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

    public override string Apply(OnnxGraph graph, string x, string weight, T5Gemma2StackWeights weights) =>
        throw new NotSupportedException($"{this.Name} weights are not written yet; convert with --weights fp32.");
}
