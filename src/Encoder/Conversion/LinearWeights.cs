using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Encoder.Onnx.Graph;

namespace T5Gemma2.Rag.Encoder.Conversion;

/// <summary>
/// How a bias-free linear layer (a Hugging Face [out, in] weight) becomes graph nodes: fp32 MatMul, or a weight-only
/// quantized form. Activations stay fp32 in every form: Gemma activations overflow fp16, so only weights shrink.
/// </summary>
internal abstract class LinearWeights
{
    /// <summary>The name written to the manifest: fp32, int8 or int4.</summary>
    public abstract string Name { get; }

    /// <summary>Adds x · Wᵀ for the weight <paramref name="weight"/> of <paramref name="weights"/>; returns the output's name.</summary>
    public abstract string Apply(OnnxGraph graph, string x, string weight, T5Gemma2StackWeights weights);

    public static LinearWeights Float32 { get; } = new Float32Linear();

    /// <summary>fp32: the weight stored transposed, [in, out], for a plain MatMul.</summary>
    private sealed class Float32Linear : LinearWeights
    {
        public override string Name => "fp32";

        public override string Apply(OnnxGraph graph, string x, string weight, T5Gemma2StackWeights weights)
        {
            var info = weights.Tensor(weight);
            long outputs = info.Shape[0], inputs = info.Shape[1];
            string name = graph.Initializer(weight, OnnxTensor.Deferred(OnnxDataType.Float, [inputs, outputs], outputs * inputs * 4, stream =>
            {
                float[] source = weights.Read(weight);
                var transposed = new float[source.Length];
                for (long o = 0; o < outputs; o++)
                {
                    for (long i = 0; i < inputs; i++)
                    {
                        transposed[i * outputs + o] = source[o * inputs + i];
                    }
                }

                OnnxTensor.WriteFloats(stream, transposed);
            }));
            return graph.Op("MatMul", [x, name]);
        }
    }
}
