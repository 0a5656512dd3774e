namespace T5Gemma2.Rag.Encoder.Conversion;

/// <summary>How linear-layer weights are stored in converted graphs. Activations are fp32 in every format.</summary>
public enum WeightFormat
{
    /// <summary>Full precision.</summary>
    Fp32,

    /// <summary>8-bit weights, block-quantized (ONNX Runtime MatMulNBits), fp32 activations.</summary>
    Int8,

    /// <summary>4-bit weights, block-quantized (ONNX Runtime MatMulNBits), fp32 activations.</summary>
    Int4,
}
