using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Onnx.Graph;

namespace T5Gemma2.Rag.Encoder.Conversion;

/// <summary>
/// What the encoder and decoder graphs share (../shared/docs/t5gemma2-architecture.md §2–3): the scaled token
/// embedding with the end-of-image override, Gemma RMSNorm (1 + w) in fp32, q/k projections with per-head norms and
/// RoPE, the GeGLU-tanh MLP, and linear layers in the chosen weight format.
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
        ? this.Graph.ExternalReference(EmbeddingName, OnnxDataType.Float, [this.Stack.VocabSize, this.Stack.HiddenSize], file, 4L * this.Stack.VocabSize * this.Stack.HiddenSize)
        : this.Graph.Initializer(EmbeddingName, this.Raw(this.Embedding, "embed_tokens.weight", [this.Stack.VocabSize, this.Stack.HiddenSize]));

    /// <summary>The embedding's initializer name in every graph; a runtime sharing one copy between sessions looks it up by this name.</summary>
    public const string EmbeddingName = "embed_tokens.weight";

    /// <summary>When set, the embedding is not written into this graph but referenced in this file beside it (fp32, raw).</summary>
    public string? SharedEmbeddingFile { get; init; }

    private string? _table;

    /// <summary>Embedding × √hidden in fp32, and the learned (unscaled) eoi vector wherever &lt;end_of_image&gt; stands.</summary>
    protected string TokenEmbedding(string ids)
    {
        var g = this.Graph;
        int hidden = this.Stack.HiddenSize;
        string embedded = g.Op("Mul", [g.Op("Gather", [this.EmbeddingTable, ids], OnnxAttribute.Int("axis", 0)), g.FloatScalar((float)Math.Sqrt(hidden))]);
        string eoi = g.Initializer("embed_tokens.eoi_embedding", this.Raw(this.Embedding, "embed_tokens.eoi_embedding", [hidden]));
        string isEoi = g.Op("Unsqueeze", [g.Op("Equal", [ids, g.Int64Scalar(this.Config.EndOfImageTokenId)]), g.Int64s(-1)]);
        return g.Op("Where", [isEoi, eoi, embedded]);
    }

    /// <summary>cos and sin of position × inverse frequency, [positions, 1, head_dim], in fp32 as the reference computes them.</summary>
    /// <param name="positions">float [positions].</param>
    protected (string Cos, string Sin) RotaryTables(string positions, RopeSettings rope)
    {
        var g = this.Graph;
        int dim = this.Stack.HeadDim;
        var inverse = new float[dim / 2];
        for (int i = 0; i < inverse.Length; i++)
        {
            // The reference computes base^(2i/d) in fp32 from an int64 arange, then divides by the linear factor.
            float exponent = (float)(2 * i) / dim;
            inverse[i] = (float)(1.0f / MathF.Pow((float)rope.Theta, exponent) / (float)rope.LinearFactor);
        }

        string frequencies = g.Op("Mul", [g.Op("Unsqueeze", [positions, g.Int64s(1)]), g.Initializer($"rope_inv_freq_{rope.Theta}_{rope.LinearFactor}".Replace('.', '_'), OnnxTensor.FromFloats(inverse, 1, inverse.Length))]);
        string angles = g.Op("Unsqueeze", [g.Op("Concat", [frequencies, frequencies], OnnxAttribute.Int("axis", -1)), g.Int64s(1)]);
        return (g.Op("Cos", [angles]), g.Op("Sin", [angles]));
    }

    /// <summary>Positions start … start + length − 1 as floats, for RoPE.</summary>
    protected string Positions(string start, string length)
    {
        var g = this.Graph;
        string end = g.Op("Add", [start, length]);
        return g.Op("Cast", [g.Op("Range", [start, end, g.Int64Scalar(1)])], OnnxAttribute.Int("to", (long)OnnxDataType.Float));
    }

    /// <summary>x·cos + rotate_half(x)·sin for x of shape [batch, sequence, heads, head_dim].</summary>
    protected string ApplyRope(string x, (string Cos, string Sin) rope)
    {
        var g = this.Graph;
        string[] halves = g.OpMulti("Split", [x, g.Int64s(this.Stack.HeadDim / 2, this.Stack.HeadDim / 2)], 2, OnnxAttribute.Int("axis", -1));
        string rotated = g.Op("Concat", [g.Op("Neg", [halves[1]]), halves[0]], OnnxAttribute.Int("axis", -1));
        return g.Op("Add", [g.Op("Mul", [x, rope.Cos]), g.Op("Mul", [rotated, rope.Sin])]);
    }

    /// <summary>Queries q_norm(q_proj(h)) with RoPE, scaled by query_pre_attn_scalar^-½: [b, s, heads, d].</summary>
    protected string Queries(string h, string p, (string Cos, string Sin) rope)
    {
        var g = this.Graph;
        string q = g.Op("Reshape", [this.Linear(h, p + "self_attn.q_proj.weight"), g.Int64s(0, 0, this.Stack.NumAttentionHeads, this.Stack.HeadDim)]);
        q = this.ApplyRope(this.RmsNorm(q, p + "self_attn.q_norm.weight"), rope);

        // The attention scale is folded into the queries.
        return g.Op("Mul", [q, g.FloatScalar((float)Math.Pow(this.Stack.QueryPreAttentionScalar, -0.5))]);
    }

    /// <summary>Keys k_norm(k_proj(h)), with RoPE when given (self keys) and without (the decoder's cross keys): [b, s, kv_heads, d].</summary>
    protected string Keys(string h, string p, (string Cos, string Sin)? rope)
    {
        var g = this.Graph;
        string k = g.Op("Reshape", [this.Linear(h, p + "self_attn.k_proj.weight"), g.Int64s(0, 0, this.Stack.NumKeyValueHeads, this.Stack.HeadDim)]);
        k = this.RmsNorm(k, p + "self_attn.k_norm.weight");
        return rope is { } r ? this.ApplyRope(k, r) : k;
    }

    /// <summary>Values v_proj(h): [b, s, kv_heads, d].</summary>
    protected string Values(string h, string p) =>
        this.Graph.Op("Reshape", [this.Linear(h, p + "self_attn.v_proj.weight"), this.Graph.Int64s(0, 0, this.Stack.NumKeyValueHeads, this.Stack.HeadDim)]);

    /// <summary>The second half of a layer: x + post_ff_norm(down(gelu_tanh(gate(h)) · up(h))) with h = pre_ff_norm(x).</summary>
    protected string FeedForward(string x, string p)
    {
        var g = this.Graph;
        string h = this.RmsNorm(x, p + "pre_feedforward_layernorm.weight");
        string gate = this.Linear(h, p + "mlp.gate_proj.weight");
        string up = this.Linear(h, p + "mlp.up_proj.weight");
        string activated = g.Op("Gelu", [gate], OnnxAttribute.String("approximate", "tanh"));
        string mlp = this.Linear(g.Op("Mul", [activated, up]), p + "mlp.down_proj.weight");
        return g.Op("Add", [x, this.RmsNorm(mlp, p + "post_feedforward_layernorm.weight")]);
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
    protected string RmsNorm(string x, string weight)
    {
        var g = this.Graph;
        var info = this.Weights.Tensor(weight);
        string scale = g.Initializer(weight, OnnxTensor.Deferred(OnnxDataType.Float, info.Shape, info.ElementCount * 4, stream =>
        {
            float[] values = this.Weights.Read(weight);
            for (int i = 0; i < values.Length; i++)
            {
                values[i] += 1f;
            }

            OnnxTensor.WriteFloats(stream, values);
        }));
        string meanSquare = g.Op("ReduceMean", [g.Op("Pow", [x, g.FloatScalar(2f)]), g.Int64s(-1)], OnnxAttribute.Int("keepdims", 1));
        string normalized = g.Op("Div", [x, g.Op("Sqrt", [g.Op("Add", [meanSquare, g.FloatScalar((float)this.Stack.RmsNormEps)])])]);
        return g.Op("Mul", [normalized, scale]);
    }

    protected string Linear(string x, string weight) =>
        this.LinearFormat.Apply(this.Graph, x, weight, this.Weights.Tensor(weight).Shape, () => this.Weights.Read(weight));

    private OnnxTensor Raw(T5Gemma2StackWeights source, string suffix, long[] shape) =>
        OnnxTensor.Deferred(OnnxDataType.Float, shape, SafeTensorInfo.CountElements(shape) * 4, stream => OnnxTensor.WriteFloats(stream, source.Read(suffix)));
}
