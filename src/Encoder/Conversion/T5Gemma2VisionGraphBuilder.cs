using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Encoder.Onnx.Graph;
using T5Gemma2.Rag.Encoder.Models;

namespace T5Gemma2.Rag.Encoder.Conversion;

/// <summary>
/// Writes the SigLIP vision tower and T5Gemma 2's multimodal projector as one ONNX graph, pixel values to image
/// features (../shared/docs/t5gemma2-vision.md §1–2): the patch convolution, learned position embeddings, pre-LN
/// layers (LayerNorm, unmasked multi-head attention, LayerNorm, fc1 → tanh GELU → fc2), the post-layernorm, then the
/// projector's average pooling to √tokens × √tokens, its Gemma RMSNorm with the vision eps and the projection as
/// stored ([vision hidden, text hidden], no transpose, no scaling).
/// </summary>
/// <remarks>
/// Weight-only quantization applies to the tower's linear layers; the patch convolution and the projection stay fp32:
/// together they are under 1% of the weights, and the projection writes the features the encoder reads directly.
/// All activations are fp32.
/// </remarks>
internal sealed class T5Gemma2VisionGraphBuilder
{
    private readonly OnnxGraph _graph = new("t5gemma2_vision_encoder");
    private readonly T5Gemma2VisionWeights _weights;
    private readonly VisionConfig _config;
    private readonly LinearWeights _linear;

    private T5Gemma2VisionGraphBuilder(T5Gemma2VisionWeights weights, LinearWeights linear)
    {
        this._weights = weights;
        this._config = weights.Config;
        this._linear = linear;
    }

    public static OnnxGraph Build(T5Gemma2VisionWeights weights, LinearWeights linear)
    {
        var builder = new T5Gemma2VisionGraphBuilder(weights, linear);
        builder.BuildGraph();
        return builder._graph;
    }

    private void BuildGraph()
    {
        var g = this._graph;
        var c = this._config;
        int hidden = c.HiddenSize, grid = c.PatchesPerSide;
        string pixels = g.Input(VisionGraphNames.PixelValues, OnnxDataType.Float, "images", 3, c.ImageSize, c.ImageSize);

        // Patch p = row · grid + column, as the reference flattens the convolution's output.
        string patches = g.Op("Conv", [pixels, this.Param("embeddings.patch_embedding.weight"), this.Param("embeddings.patch_embedding.bias")],
            OnnxAttribute.Ints("kernel_shape", c.PatchSize, c.PatchSize), OnnxAttribute.Ints("strides", c.PatchSize, c.PatchSize));
        string x = g.Op("Transpose", [g.Op("Reshape", [patches, g.Int64s(0, hidden, -1)])], OnnxAttribute.Ints("perm", 0, 2, 1));
        x = g.Op("Add", [x, this.Param("embeddings.position_embedding.weight")]);

        for (int layer = 0; layer < c.NumLayers; layer++)
        {
            string p = $"encoder.layers.{layer}.";
            string h = this.LayerNorm(x, p + "layer_norm1");
            string[] qkv = this.FusedLinear(h, p + "self_attn.qkv_proj", p + "self_attn.q_proj", p + "self_attn.k_proj", p + "self_attn.v_proj");
            // No mask and no RoPE: every patch sees every patch. ONNX Runtime's fused attention never materialises the
            // [4096, 4096] scores per head.
            string attended = g.OpIn(OnnxGraph.MicrosoftDomain, "MultiHeadAttention", [qkv[0], qkv[1], qkv[2]],
                OnnxAttribute.Int("num_heads", c.NumAttentionHeads), OnnxAttribute.Float("scale", (float)Math.Pow(c.HeadDim, -0.5)));
            x = g.Op("Add", [x, this.Linear(attended, p + "self_attn.out_proj")]);
            h = this.LayerNorm(x, p + "layer_norm2");
            string activated = g.Op("Gelu", [this.Linear(h, p + "mlp.fc1")], OnnxAttribute.String("approximate", "tanh"));
            x = g.Op("Add", [x, this.Linear(activated, p + "mlp.fc2")]);
        }

        x = this.LayerNorm(x, "post_layernorm");

        // The projector: [n, patches, hidden] as an image [n, hidden, grid, grid], a plain mean over each
        // kernel × kernel block, back to [n, tokens, hidden] with token t = row · side + column.
        string image = g.Op("Reshape", [g.Op("Transpose", [x], OnnxAttribute.Ints("perm", 0, 2, 1)), g.Int64s(0, hidden, grid, grid)]);
        string pooled = g.Op("AveragePool", [image], OnnxAttribute.Ints("kernel_shape", c.PoolKernel, c.PoolKernel), OnnxAttribute.Ints("strides", c.PoolKernel, c.PoolKernel));
        string tokens = g.Op("Transpose", [g.Op("Reshape", [pooled, g.Int64s(0, hidden, -1)])], OnnxAttribute.Ints("perm", 0, 2, 1));
        string features = g.Op("MatMul", [this.GemmaRmsNorm(tokens, "mm_soft_emb_norm.weight"), this.Param("mm_input_projection_weight")]);
        g.Output(features, VisionGraphNames.ImageFeatures, OnnxDataType.Float, "images", c.TokensPerImage, c.TextHiddenSize);
        g.Metadata["model_type"] = "t5gemma2_vision_encoder";
        g.Metadata["image_size"] = c.ImageSize.ToString(System.Globalization.CultureInfo.InvariantCulture);
        g.Metadata["weights"] = this._linear.Name;
    }

    /// <summary>A checkpoint tensor as a graph initializer, fp32, shape as stored.</summary>
    private string Param(string suffix)
    {
        var info = this._weights.Tensor(suffix);
        return this._graph.Initializer(suffix, OnnxTensor.Deferred(OnnxDataType.Float, info.Shape, info.ElementCount * 4, stream => TensorData.WriteFloats(stream, this._weights.Read(suffix))));
    }

    private string LayerNorm(string x, string norm) =>
        this._graph.Op("LayerNormalization", [x, this.Param(norm + ".weight"), this.Param(norm + ".bias")],
            OnnxAttribute.Int("axis", -1), OnnxAttribute.Float("epsilon", (float)this._config.LayerNormEps));

    /// <summary>Gemma's RMSNorm, x / √(mean(x²) + eps) · (1 + w) in fp32, here with the vision tower's eps.</summary>
    private string GemmaRmsNorm(string x, string weight)
    {
        var g = this._graph;
        var info = this._weights.Tensor(weight);
        string scale = g.Initializer(weight, OnnxTensor.Deferred(OnnxDataType.Float, info.Shape, info.ElementCount * 4, stream =>
            TensorData.WriteFloats(stream, [.. this._weights.Read(weight).Select(w => w + 1f)])));
        string meanSquare = g.Op("ReduceMean", [g.Op("Mul", [x, x]), g.Int64s(-1)], OnnxAttribute.Int("keepdims", 1));
        string normalized = g.Op("Div", [x, g.Op("Sqrt", [g.Op("Add", [meanSquare, g.FloatScalar((float)this._config.LayerNormEps)])])]);
        return g.Op("Mul", [normalized, scale]);
    }

    /// <summary>x · Wᵀ + b for the layer <paramref name="layer"/> (its <c>.weight</c> [out, in] and <c>.bias</c>).</summary>
    private string Linear(string x, string layer) => this.FusedLinear(x, layer, layer)[0];

    /// <summary>Linear layers over one input as one product (weights stacked, biases joined), then split.</summary>
    private string[] FusedLinear(string x, string name, params string[] layers)
    {
        var g = this._graph;
        long inputs = this._weights.Tensor(layers[0] + ".weight").Shape[1];
        long[] sizes = [.. layers.Select(l => this._weights.Tensor(l + ".weight").Shape[0])];
        float[] Stack(string part)
        {
            if (layers.Length == 1)
            {
                return this._weights.Read(layers[0] + part);
            }

            var stacked = new List<float>();
            foreach (string layer in layers)
            {
                stacked.AddRange(this._weights.Read(layer + part));
            }

            return [.. stacked];
        }

        string product = this._linear.Apply(g, x, name + ".weight", [sizes.Sum(), inputs], () => Stack(".weight"));
        string bias = g.Initializer(name + ".bias", OnnxTensor.Deferred(OnnxDataType.Float, [sizes.Sum()], sizes.Sum() * 4, stream => TensorData.WriteFloats(stream, Stack(".bias"))));
        string sum = g.Op("Add", [product, bias]);
        return layers.Length == 1 ? [sum] : g.OpMulti("Split", [sum, g.Int64s(sizes)], layers.Length, OnnxAttribute.Int("axis", -1));
    }
}
