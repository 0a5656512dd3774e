using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Onnx.Graph;

namespace T5Gemma2.Rag.Encoder.Conversion;

/// <summary>
/// What the encoder and decoder graphs share (../shared/docs/t5gemma2-architecture.md §2–3): the scaled token
/// embedding with the end-of-image override, Gemma RMSNorm (1 + w) in fp32, fused q/k/v projections with per-head
/// norms and RoPE, the fused GeGLU-tanh MLP, sandwich norms joined to the residual stream in one node, and linear
/// layers in the chosen weight format. Fewer, larger operators: a one-token decoder step is bound by their count.
/// </summary>
internal abstract class T5Gemma2StackGraphBuilder
{
    /// <summary>Added to scores of keys a query may not see: finite, so a row with no visible key gives no NaN.</summary>
    protected const float MaskedScore = -1e30f;

    protected T5Gemma2StackGraphBuilder(string graphName, T5Gemma2Config config, T5Gemma2StackWeights weights, T5Gemma2StackWeights embedding, LinearWeights linear)
    {
        this.Config = config;
        this.Weights = weights;
        this.Embedding = embedding;
        this.Stack = weights.Config;
        this.LinearFormat = linear;
        this.Graph = new OnnxGraph(graphName);
    }

    protected OnnxGraph Graph { get; }

    protected T5Gemma2Config Config { get; }

    protected T5Gemma2StackConfig Stack { get; }

    /// <summary>The stack's own weights (layers, final norm).</summary>
    protected T5Gemma2StackWeights Weights { get; }

    /// <summary>Where the (tied) embedding and eoi vector live: the encoder's tensors, for both stacks.</summary>
    protected T5Gemma2StackWeights Embedding { get; }

    protected LinearWeights LinearFormat { get; }

    /// <summary>The embedding table initializer, [vocab, hidden]; the decoder also reads logits through it.</summary>
    protected string EmbeddingTable => this._table ??= this.SharedEmbeddingFile is { } file
        ? this.Graph.ExternalReference(EncoderGraphNames.EmbeddingTable, OnnxDataType.Float, [this.Stack.VocabSize, this.Stack.HiddenSize], file, 4L * this.Stack.VocabSize * this.Stack.HiddenSize)
        : this.Graph.Initializer(EncoderGraphNames.EmbeddingTable, this.Raw(this.Embedding, "embed_tokens.weight", [this.Stack.VocabSize, this.Stack.HiddenSize]));

    /// <summary>When set, the embedding is not written into this graph but referenced in this file beside it (fp32, raw).</summary>
    public string? SharedEmbeddingFile { get; init; }

    private string? _table;

    private readonly Dictionary<string, string> _inverseFrequencies = new(StringComparer.Ordinal);

    /// <summary>Embedding × √hidden in fp32, and (T5Gemma 2 only) the learned, unscaled eoi vector wherever &lt;end_of_image&gt; stands.</summary>
    protected string TokenEmbedding(string ids)
    {
        var g = this.Graph;
        int hidden = this.Stack.HiddenSize;
        string embedded = g.Op("Mul", [g.Op("Gather", [this.EmbeddingTable, ids], OnnxAttribute.Int("axis", 0)), g.FloatScalar((float)Math.Sqrt(hidden))]);
        if (this.Config.Architecture != EncoderArchitecture.T5Gemma2)
        {
            return embedded; // Gemma 3 has no eoi vector: id 256000 is an ordinary token there
        }

        string eoi = g.Initializer("embed_tokens.eoi_embedding", this.Raw(this.Embedding, "embed_tokens.eoi_embedding", [hidden]));
        string isEoi = g.Op("Unsqueeze", [g.Op("Equal", [ids, g.Int64Scalar(this.Config.EndOfImageTokenId)]), g.Int64s(-1)]);
        return g.Op("Where", [isEoi, eoi, embedded]);
    }

    /// <summary>RoPE's inverse frequencies, [1, head_dim / 2], computed as the reference does; one initializer per setting.</summary>
    private string InverseFrequencies(RopeSettings rope)
    {
        string name = $"rope_inv_freq_{rope.Theta}_{rope.LinearFactor}".Replace('.', '_');
        if (this._inverseFrequencies.TryGetValue(name, out string? existing))
        {
            return existing;
        }

        int dim = this.Stack.HeadDim;
        var inverse = new float[dim / 2];
        for (int i = 0; i < inverse.Length; i++)
        {
            // The reference computes base^(2i/d) in fp32 from an int64 arange, then divides by the linear factor.
            float exponent = (float)(2 * i) / dim;
            inverse[i] = (float)(1.0f / MathF.Pow((float)rope.Theta, exponent) / (float)rope.LinearFactor);
        }

        return this._inverseFrequencies[name] = this.Graph.Initializer(name, OnnxTensor.FromFloats(inverse, 1, inverse.Length));
    }

    /// <summary>Positions start … start + length − 1 as floats, for RoPE.</summary>
    protected string Positions(string start, string length)
    {
        var g = this.Graph;
        string end = g.Op("Add", [start, length]);
        return g.Op("Cast", [g.Op("Range", [start, end, g.Int64Scalar(1)])], OnnxAttribute.Int("to", (long)OnnxDataType.Float));
    }

    protected string Softcap(string scores, double? cap)
    {
        if (cap is not double value)
        {
            return scores;
        }

        var g = this.Graph;
        return g.Op("Mul", [g.Op("Tanh", [g.Op("Div", [scores, g.FloatScalar((float)value)])]), g.FloatScalar((float)value)]);
    }

    /// <summary>Gemma RMSNorm in fp32: x / sqrt(mean(x²) + eps) · (1 + w), the (1 + w) folded into the stored weight.</summary>
    /// <param name="scale">Folded into the stored weight as well: a constant factor on the output (the attention scale on the queries).</param>
    protected string RmsNorm(string x, string weight, float scale = 1f)
    {
        // ONNX Runtime fuses this pattern into one SimplifiedLayerNormalization node.
        var g = this.Graph;
        string meanSquare = g.Op("ReduceMean", [g.Op("Pow", [x, g.FloatScalar(2f)]), g.Int64s(-1)], OnnxAttribute.Int("keepdims", 1));
        string normalized = g.Op("Div", [x, g.Op("Sqrt", [g.Op("Add", [meanSquare, g.FloatScalar((float)this.Stack.RmsNormEps)])])]);
        return g.Op("Mul", [normalized, this.NormWeight(weight, scale)]);
    }

    /// <summary>
    /// (rms_norm(x + skip), x + skip) in one node: a sandwich-normed branch joins the residual stream and the next norm
    /// reads it. ONNX Runtime does not fuse Gemma's Add → RMSNorm by itself.
    /// </summary>
    protected (string Normalized, string Sum) SkipRmsNorm(string x, string skip, string weight)
    {
        string[] outputs = this.Graph.OpMultiIn(OnnxGraph.MicrosoftDomain, "SkipSimplifiedLayerNormalization", [x, skip, this.NormWeight(weight, 1f)], 4, OnnxAttribute.Float("epsilon", (float)this.Stack.RmsNormEps));
        return (outputs[0], outputs[3]);
    }

    /// <summary>
    /// The norm that opens a sub-block, and the residual stream it reads: rms_norm(residual) when no branch is pending,
    /// else the pending branch (a sandwich-normed attention or MLP output) joins the stream first, in the same node.
    /// </summary>
    protected (string Normalized, string Residual) Join(string residual, string? branch, string weight) =>
        branch is null ? (this.RmsNorm(residual, weight), residual) : this.SkipRmsNorm(branch, residual, weight);

    /// <summary>The MLP branch of a layer, post_ff_norm(down(gelu_tanh(gate(h)) · up(h))), with gate and up as one fused product.</summary>
    protected string MlpBranch(string h, string p)
    {
        var g = this.Graph;
        string[] gateUp = this.FusedLinear(h, p + "mlp.gate_up_proj.weight", p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight");
        string activated = g.Op("Gelu", [gateUp[0]], OnnxAttribute.String("approximate", "tanh"));
        return this.RmsNorm(this.Linear(g.Op("Mul", [activated, gateUp[1]]), p + "mlp.down_proj.weight"), p + "post_feedforward_layernorm.weight");
    }

    /// <summary>The stored (1 + w) · scale of a norm, as an initializer.</summary>
    private string NormWeight(string weight, float scale)
    {
        var info = this.Weights.Tensor(weight);
        string name = scale == 1f ? weight : weight + "_scaled";
        return this.Graph.Initializer(name, OnnxTensor.Deferred(OnnxDataType.Float, info.Shape, info.ElementCount * 4, stream =>
        {
            float[] values = this.Weights.Read(weight);
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = (values[i] + 1f) * scale;
            }

            TensorData.WriteFloats(stream, values);
        }));
    }

    protected string Linear(string x, string weight) =>
        this.LinearFormat.Apply(this.Graph, x, weight, this.Weights.Tensor(weight).Shape, () => this.Weights.Read(weight));

    /// <summary>
    /// Several linear layers over the same input as few matrix products (their [out, in] weights stacked), then split:
    /// one operator instead of several, which is what a one-token decoder step is bound by. Layers stored in different
    /// widths (an int4 encoder keeps some in 8 bits) are stacked by runs of equal width.
    /// </summary>
    /// <param name="name">The stacked weight's initializer name when all share one width.</param>
    protected string[] FusedLinear(string x, string name, params string[] weights)
    {
        var g = this.Graph;
        long inputs = this.Weights.Tensor(weights[0]).Shape[1];
        if (weights.Any(w => this.Weights.Tensor(w).Shape[1] != inputs))
        {
            throw new ArgumentException($"{string.Join(", ", weights)} do not share one input width; expected weights over the same input.", nameof(weights));
        }

        var groups = new List<string[]>();
        foreach (string weight in weights)
        {
            if (groups.Count > 0 && this.LinearFormat.BitsFor(groups[^1][0]) == this.LinearFormat.BitsFor(weight))
            {
                groups[^1] = [.. groups[^1], weight];
            }
            else
            {
                groups.Add([weight]);
            }
        }

        var outputs = new List<string>(weights.Length);
        foreach (string[] group in groups)
        {
            string groupName = groups.Count == 1 ? name : group.Length == 1 ? group[0] : $"{name}.{string.Join("_", group.Select(w => w.Split('.')[^2]))}";
            if (this.LinearFormat.BitsFor(groupName) != this.LinearFormat.BitsFor(group[0]))
            {
                throw new InvalidOperationException($"{groupName}: the stacked weight would be stored in {this.LinearFormat.BitsFor(groupName)} bits, its layers in {this.LinearFormat.BitsFor(group[0])}.");
            }

            long[] sizes = [.. group.Select(w => this.Weights.Tensor(w).Shape[0])];
            string product = this.LinearFormat.Apply(g, x, groupName, [sizes.Sum(), inputs], () =>
            {
                var stacked = new float[sizes.Sum() * inputs];
                long offset = 0;
                foreach (string weight in group)
                {
                    float[] part = this.Weights.Read(weight);
                    part.CopyTo(stacked, offset);
                    offset += part.Length;
                }

                return stacked;
            });
            outputs.AddRange(group.Length == 1 ? [product] : g.OpMulti("Split", [product, g.Int64s(sizes)], group.Length, OnnxAttribute.Int("axis", -1)));
        }

        return [.. outputs];
    }

    /// <summary>cos and sin of position × inverse frequency, [positions, head_dim / 2] each: the caches ONNX Runtime's RotaryEmbedding reads.</summary>
    /// <param name="positions">float [positions].</param>
    protected (string Cos, string Sin) RotaryCaches(string positions, RopeSettings rope)
    {
        var g = this.Graph;
        string frequencies = g.Op("Mul", [g.Op("Unsqueeze", [positions, g.Int64s(1)]), this.InverseFrequencies(rope)]);
        return (g.Op("Cos", [frequencies]), g.Op("Sin", [frequencies]));
    }

    /// <summary>
    /// RoPE (the rotate-half convention) on x of [batch, sequence, heads · head_dim] by ONNX Runtime's RotaryEmbedding,
    /// one operator in place of six; its caches hold exactly the sequence's positions, so the position offset is 0.
    /// </summary>
    protected string Rotary(string x, int heads, (string Cos, string Sin) caches) =>
        this.Graph.OpIn(OnnxGraph.MicrosoftDomain, "RotaryEmbedding", [x, this.Graph.Int64s(0), caches.Cos, caches.Sin], OnnxAttribute.Int("interleaved", 0), OnnxAttribute.Int("num_heads", heads));

    /// <summary>
    /// Queries, keys and values of a layer from one fused q/k/v projection, each [batch, sequence, heads · head_dim]:
    /// per-head q_norm (with the attention scale query_pre_attn_scalar^-½ folded into its weight) and k_norm, then RoPE.
    /// </summary>
    protected (string Q, string K, string V) ProjectFused(string h, string p, (string Cos, string Sin) rope)
    {
        var g = this.Graph;
        int heads = this.Stack.NumAttentionHeads, kv = this.Stack.NumKeyValueHeads, d = this.Stack.HeadDim;
        string[] qkv = this.FusedLinear(h, p + "self_attn.qkv_proj.weight", p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight", p + "self_attn.v_proj.weight");
        float scale = (float)Math.Pow(this.Stack.QueryPreAttentionScalar, -0.5);
        string q = g.Op("Reshape", [this.RmsNorm(g.Op("Reshape", [qkv[0], g.Int64s(0, 0, heads, d)]), p + "self_attn.q_norm.weight", scale), g.Int64s(0, 0, (long)heads * d)]);
        string k = g.Op("Reshape", [this.RmsNorm(g.Op("Reshape", [qkv[1], g.Int64s(0, 0, kv, d)]), p + "self_attn.k_norm.weight"), g.Int64s(0, 0, (long)kv * d)]);
        return (this.Rotary(q, heads, rope), this.Rotary(k, kv, rope), qkv[2]);
    }

    private OnnxTensor Raw(T5Gemma2StackWeights source, string suffix, long[] shape) =>
        OnnxTensor.Deferred(OnnxDataType.Float, shape, TensorData.CountElements(shape) * 4, stream => TensorData.WriteFloats(stream, source.Read(suffix)));
}
