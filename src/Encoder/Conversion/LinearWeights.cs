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

    /// <summary>Adds x · Wᵀ for a weight W of <paramref name="shape"/> [out, in], read when the graph is saved; returns the output's name.</summary>
    /// <param name="name">The initializer name the weight gets in the graph.</param>
    public abstract string Apply(OnnxGraph graph, string x, string name, long[] shape, Func<float[]> read);

    /// <summary>The bits a weight of this name is stored in: layers of one width can share one fused product.</summary>
    public virtual int BitsFor(string name) => 32;

    public static LinearWeights Float32 { get; } = new Float32Linear();

    /// <summary>fp32: the weight stored transposed, [in, out], for a plain MatMul.</summary>
    private sealed class Float32Linear : LinearWeights
    {
        public override string Name => "fp32";

        public override string Apply(OnnxGraph graph, string x, string name, long[] shape, Func<float[]> read)
        {
            long outputs = shape[0], inputs = shape[1];
            string initializer = graph.Initializer(name, OnnxTensor.Deferred(OnnxDataType.Float, [inputs, outputs], outputs * inputs * 4, stream =>
            {
                float[] source = read();
                var transposed = new float[source.Length];
                for (long o = 0; o < outputs; o++)
                {
                    for (long i = 0; i < inputs; i++)
                    {
                        transposed[i * outputs + o] = source[o * inputs + i];
                    }
                }

                TensorData.WriteFloats(stream, transposed);
            }));
            return graph.Op("MatMul", [x, initializer]);
        }
    }
}
