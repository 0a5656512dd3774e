using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Onnx.Graph;

namespace T5Gemma2.Rag.Encoder.Conversion;

/// <summary>
/// Writes the T5Gemma 2 text encoder (or a bidirectional Gemma 3 encoder such as EmbeddingGemma, the same blocks
/// without the image and eoi inputs and with a symmetric window: <see cref="EncoderArchitecture"/>) as an ONNX graph, following the reference implementation
/// (../shared/docs/t5gemma2-architecture.md §2): scaled embedding with the end-of-image override and image soft
/// tokens, then per layer the sandwich-normed self-attention (q/k RMSNorm before RoPE, grouped-query, scaled by
/// query_pre_attn_scalar^-½, bidirectional with the asymmetric window on sliding layers) and GeGLU, then the final norm.
/// </summary>
/// <remarks>
/// Sliding layers are computed block-locally, so they cost O(n·window) rather than O(n²): queries are cut into blocks
/// of b = max(left reach, right reach) tokens (or the whole sequence when shorter), and each block attends to its own
/// and its two neighbouring blocks of keys, masked to the exact window. Only the full layers (1 in 6) are quadratic.
/// Full layers use ONNX Runtime's fused MultiHeadAttention (com.microsoft) with the key-padding mask; with attention
/// soft-capping, which it cannot express, they fall back to explicit MatMul/Softmax.
/// All activations are fp32; weights may be quantized (<see cref="LinearWeights"/>).
/// </remarks>
internal sealed class T5Gemma2EncoderGraphBuilder : T5Gemma2StackGraphBuilder
{
    private string? _keyPaddingMask;

    private T5Gemma2EncoderGraphBuilder(T5Gemma2Config config, T5Gemma2StackWeights weights, LinearWeights linear)
        : base(config.Architecture == EncoderArchitecture.T5Gemma2 ? "t5gemma2_encoder" : "gemma3_bidirectional_encoder", config, weights, weights, linear)
    {
    }

    public static OnnxGraph Build(T5Gemma2Config config, T5Gemma2StackWeights weights, LinearWeights linear, string? sharedEmbeddingFile = null)
    {
        var builder = new T5Gemma2EncoderGraphBuilder(config, weights, linear) { SharedEmbeddingFile = sharedEmbeddingFile };
        builder.BuildGraph();
        return builder.Graph;
    }

    private void BuildGraph()
    {
        var g = this.Graph;
        int hidden = this.Stack.HiddenSize;
        string ids = g.Input(EncoderGraphNames.InputIds, OnnxDataType.Int64, "batch", "sequence");
        string mask = g.Input(EncoderGraphNames.AttentionMask, OnnxDataType.Int64, "batch", "sequence");
        // Only T5Gemma 2 takes images; a Gemma 3 text encoder's graph has no image input at all.
        string x = this.Config.Architecture == EncoderArchitecture.T5Gemma2
            ? this.Embed(ids, g.Input(EncoderGraphNames.ImageFeatures, OnnxDataType.Float, "image_tokens", hidden))
            : this.TokenEmbedding(ids);
        string sequence = g.Op("Gather", [g.Op("Shape", [ids]), g.Int64s(1)], OnnxAttribute.Int("axis", 0)); // [1]
        string positions = this.Positions(g.Int64Scalar(0), g.Op("Squeeze", [sequence, g.Int64s(0)]));
        var rope = new Dictionary<AttentionLayerType, (string Cos, string Sin)>();
        foreach (var type in this.Stack.LayerTypes.Distinct())
        {
            rope[type] = this.RotaryCaches(positions, this.Stack.RopeFor(type));
        }

        this._keyPaddingMask = g.Op("Cast", [mask], OnnxAttribute.Int("to", (long)OnnxDataType.Int32));
        string keep = g.Op("Cast", [mask], OnnxAttribute.Int("to", (long)OnnxDataType.Float));
        var fullMask = new Lazy<string>(() => this.FullAttentionMask(keep));
        var slidingMask = new Lazy<SlidingMasks>(() => this.SlidingAttentionMasks(keep, sequence));
        string? branch = null;
        for (int layer = 0; layer < this.Stack.NumLayers; layer++)
        {
            string p = $"layers.{layer}.";
            var type = this.Stack.LayerTypes[layer];

            (string h, x) = this.Join(x, branch, p + "pre_self_attn_layernorm.weight");
            string attention = type == AttentionLayerType.Full
                ? this.FullAttention(h, p, rope[type], fullMask.Value)
                : this.SlidingAttention(h, p, rope[type], slidingMask.Value, sequence);
            attention = this.RmsNorm(attention, p + "post_self_attn_layernorm.weight");
            (h, x) = this.Join(x, attention, p + "pre_feedforward_layernorm.weight");
            branch = this.MlpBranch(h, p);
        }

        (x, _) = this.Join(x, branch, "norm.weight");
        g.Output(x, EncoderGraphNames.LastHiddenState, OnnxDataType.Float, "batch", "sequence", hidden);
        g.Metadata["model_type"] = this.Config.Architecture == EncoderArchitecture.T5Gemma2 ? "t5gemma2_encoder" : this.Config.ModelType;
    }

    /// <summary>The token embedding, then image features at &lt;image_soft_token&gt; positions.</summary>
    private string Embed(string ids, string image)
    {
        var g = this.Graph;
        int hidden = this.Stack.HiddenSize;
        string embedded = this.TokenEmbedding(ids);

        // masked_scatter: the k-th image position (row-major over batch, then sequence) takes the k-th feature row.
        // Positions past the features given keep their embedding, as the reference does when there are no images;
        // the caller checks that the counts agree when it does pass images.
        string isImage = g.Op("Equal", [ids, g.Int64Scalar(this.Config.ImageTokenId)]);
        string flat = g.Op("Reshape", [g.Op("Cast", [isImage], OnnxAttribute.Int("to", (long)OnnxDataType.Int64)), g.Int64s(-1)]);
        string order = g.Op("Reshape", [g.Op("Sub", [g.Op("CumSum", [flat, g.Int64Scalar(0)]), g.Int64Scalar(1)]), g.Op("Shape", [ids])]);
        string featureCount = g.Op("Gather", [g.Op("Shape", [image]), g.Int64s(0)], OnnxAttribute.Int("axis", 0));
        string hasFeature = g.Op("And", [isImage, g.Op("Less", [order, featureCount])]);
        string row = g.Op("Min", [g.Op("Max", [order, g.Int64Scalar(0)]), featureCount]);
        string padded = g.Op("Concat", [image, g.Initializer("image_features_pad", OnnxTensor.FromFloats(new float[hidden], 1, hidden))], OnnxAttribute.Int("axis", 0));
        string scattered = g.Op("Gather", [padded, row], OnnxAttribute.Int("axis", 0));
        return g.Op("Where", [g.Op("Unsqueeze", [hasFeature, g.Int64s(-1)]), scattered, embedded]);
    }

    /// <summary>Queries, keys and values as [b, s, heads, d].</summary>
    private (string Q, string K, string V) Project(string h, string p, (string Cos, string Sin) rope)
    {
        var g = this.Graph;
        var (q, k, v) = this.ProjectFused(h, p, rope);
        string Heads(string x, int heads) => g.Op("Reshape", [x, g.Int64s(0, 0, heads, this.Stack.HeadDim)]);
        return (Heads(q, this.Stack.NumAttentionHeads), Heads(k, this.Stack.NumKeyValueHeads), Heads(v, this.Stack.NumKeyValueHeads));
    }

    private string FullAttention(string h, string p, (string Cos, string Sin) rope, string mask)
    {
        var g = this.Graph;
        var (q, k, v) = this.Project(h, p, rope);
        int kv = this.Stack.NumKeyValueHeads, groups = this.Stack.QueriesPerKeyValueHead, d = this.Stack.HeadDim;
        if (this.Stack.AttentionLogitSoftcapping is null)
        {
            // ONNX Runtime's fused MultiHeadAttention never materializes the [s, s] scores: 1.4x faster at 8,192 tokens
            // here. It has no grouped-query form, so each key/value head is repeated for its query heads (as repeat_kv does).
            long width = (long)this.Stack.NumAttentionHeads * d;
            string Expand(string x) => g.Op("Reshape", [g.Op("Expand", [g.Op("Unsqueeze", [x, g.Int64s(3)]), g.Int64s(1, 1, 1, groups, 1)]), g.Int64s(0, 0, width)]);
            string attended = g.OpIn(OnnxGraph.MicrosoftDomain, "MultiHeadAttention",
                [g.Op("Reshape", [q, g.Int64s(0, 0, width)]), Expand(k), Expand(v), "", this._keyPaddingMask!],
                OnnxAttribute.Int("num_heads", this.Stack.NumAttentionHeads), OnnxAttribute.Float("scale", 1f));
            return this.Linear(attended, p + "self_attn.o_proj.weight");
        }

        // Query head i uses key/value head i / groups: q as [b, kv, groups, s, d] against k, v as [b, kv, 1, s, d].
        string q5 = g.Op("Transpose", [g.Op("Reshape", [q, g.Int64s(0, 0, kv, groups, d)])], OnnxAttribute.Ints("perm", 0, 2, 3, 1, 4));
        string kT = g.Op("Unsqueeze", [g.Op("Transpose", [k], OnnxAttribute.Ints("perm", 0, 2, 3, 1)), g.Int64s(2)]);
        string v5 = g.Op("Unsqueeze", [g.Op("Transpose", [v], OnnxAttribute.Ints("perm", 0, 2, 1, 3)), g.Int64s(2)]);
        string scores = this.Softcap(g.Op("MatMul", [q5, kT]), this.Stack.AttentionLogitSoftcapping);
        string weights = g.Op("Softmax", [g.Op("Add", [scores, mask])], OnnxAttribute.Int("axis", -1));
        string output = g.Op("Transpose", [g.Op("MatMul", [weights, v5])], OnnxAttribute.Ints("perm", 0, 3, 1, 2, 4));
        return this.Linear(g.Op("Reshape", [output, g.Int64s(0, 0, (long)this.Stack.NumAttentionHeads * d)]), p + "self_attn.o_proj.weight");
    }

    private string SlidingAttention(string h, string p, (string Cos, string Sin) rope, SlidingMasks masks, string sequence)
    {
        var g = this.Graph;
        var (q, k, v) = this.Project(h, p, rope);
        int kv = this.Stack.NumKeyValueHeads, groups = this.Stack.QueriesPerKeyValueHead, d = this.Stack.HeadDim;

        // Queries in blocks: [b, padded, heads, d] → [b, blocks, block, kv, groups, d] → [b, kv, groups, blocks, block, d].
        string qPadded = g.Op("Pad", [q, masks.QueryPads]);
        string qBlocks = g.Op("Reshape", [qPadded, g.Op("Concat", [g.Int64s(0, -1), masks.Block, g.Int64s(kv, groups, d)], OnnxAttribute.Int("axis", 0))]);
        string q6 = g.Op("Transpose", [qBlocks], OnnxAttribute.Ints("perm", 0, 3, 4, 1, 2, 5));

        // Keys and values: each block's window is its own block and both neighbours, [b, blocks, 3·block, kv, d].
        string kWindows = this.KeyWindows(k, masks, kv, d);
        string vWindows = this.KeyWindows(v, masks, kv, d);
        string kT = g.Op("Unsqueeze", [g.Op("Transpose", [kWindows], OnnxAttribute.Ints("perm", 0, 3, 1, 4, 2)), g.Int64s(2)]);
        string v6 = g.Op("Unsqueeze", [g.Op("Transpose", [vWindows], OnnxAttribute.Ints("perm", 0, 3, 1, 2, 4)), g.Int64s(2)]);

        string scores = this.Softcap(g.Op("MatMul", [q6, kT]), this.Stack.AttentionLogitSoftcapping); // [b, kv, groups, blocks, block, 3·block]
        string weights = g.Op("Softmax", [g.Op("Add", [scores, masks.Additive])], OnnxAttribute.Int("axis", -1));
        string output = g.Op("MatMul", [weights, v6]); // [b, kv, groups, blocks, block, d]
        output = g.Op("Transpose", [output], OnnxAttribute.Ints("perm", 0, 3, 4, 1, 2, 5));
        output = g.Op("Reshape", [output, g.Int64s(0, -1, (long)this.Stack.NumAttentionHeads * d)]);
        output = g.Op("Slice", [output, g.Int64s(0), sequence, g.Int64s(1)]);
        return this.Linear(output, p + "self_attn.o_proj.weight");
    }

    private string KeyWindows(string x, SlidingMasks masks, int heads, int d)
    {
        var g = this.Graph;
        string padded = g.Op("Pad", [x, masks.KeyPads]);
        string blocks = g.Op("Reshape", [padded, g.Op("Concat", [g.Int64s(0, -1), masks.Block, g.Int64s(heads, d)], OnnxAttribute.Int("axis", 0))]);
        return this.Windows(blocks, masks.BlockCount);
    }

    /// <summary>[b, blocks + 2, block, …] → [b, blocks, 3·block, …]: blocks i, i+1, i+2 side by side.</summary>
    private string Windows(string blocks, string blockCount)
    {
        var g = this.Graph;
        string previous = g.Op("Slice", [blocks, g.Int64s(0), blockCount, g.Int64s(1)]);
        string current = g.Op("Slice", [blocks, g.Int64s(1), g.Op("Add", [blockCount, g.Int64s(1)]), g.Int64s(1)]);
        string next = g.Op("Slice", [blocks, g.Int64s(2), g.Op("Add", [blockCount, g.Int64s(2)]), g.Int64s(1)]);
        return g.Op("Concat", [previous, current, next], OnnxAttribute.Int("axis", 2));
    }

    /// <summary>Additive key-padding mask [b, 1, 1, 1, s] for the full layers, from the mask as floats (1 keep, 0 padding).</summary>
    private string FullAttentionMask(string keep)
    {
        var g = this.Graph;
        string additive = g.Op("Mul", [g.Op("Sub", [g.FloatScalar(1f), keep]), g.FloatScalar(MaskedScore)]);
        return g.Op("Reshape", [additive, g.Int64s(0, 1, 1, 1, -1)]);
    }

    private sealed record SlidingMasks(string Block, string BlockCount, string QueryPads, string KeyPads, string Additive);

    /// <summary>Block sizes, paddings and the additive mask [b, 1, 1, blocks, block, 3·block] shared by all sliding layers.</summary>
    private SlidingMasks SlidingAttentionMasks(string keep, string sequence)
    {
        var g = this.Graph;
        var (left, right) = this.Stack.BidirectionalWindowReach;
        long maxBlock = Math.Max(1, Math.Max(left, right));

        string block = g.Op("Min", [sequence, g.Int64s(maxBlock)]); // [1]
        string blockCount = g.Op("Div", [g.Op("Sub", [g.Op("Add", [sequence, block]), g.Int64s(1)]), block]);
        string tail = g.Op("Sub", [g.Op("Mul", [blockCount, block]), sequence]);
        string zero = g.Int64s(0);
        // Pad's pads: begin values for every axis, then end values. Queries pad at the end; keys one block each side.
        string queryPads = g.Op("Concat", [zero, zero, zero, zero, zero, tail, zero, zero], OnnxAttribute.Int("axis", 0));
        string keyEnd = g.Op("Add", [tail, block]);
        string keyPads = g.Op("Concat", [zero, block, zero, zero, zero, keyEnd, zero, zero], OnnxAttribute.Int("axis", 0));
        string maskPads = g.Op("Concat", [zero, block, zero, keyEnd], OnnxAttribute.Int("axis", 0));

        // Which key j of a window a query i of the block may see: distance i + block − j within [−right, left].
        string blockScalar = g.Op("Squeeze", [block, g.Int64s(0)]);
        string i = g.Op("Unsqueeze", [g.Op("Range", [g.Int64Scalar(0), blockScalar, g.Int64Scalar(1)]), g.Int64s(1)]);
        string j = g.Op("Unsqueeze", [g.Op("Range", [g.Int64Scalar(0), g.Op("Mul", [blockScalar, g.Int64Scalar(3)]), g.Int64Scalar(1)]), g.Int64s(0)]);
        string distance = g.Op("Sub", [g.Op("Add", [i, blockScalar]), j]);
        string inWindow = g.Op("And", [
            g.Op("GreaterOrEqual", [distance, g.Int64Scalar(-right)]),
            g.Op("LessOrEqual", [distance, g.Int64Scalar(left)])]);
        string windowAdditive = g.Op("Where", [inWindow, g.FloatScalar(0f), g.FloatScalar(MaskedScore)]); // [block, 3·block]

        // Keys outside the sequence or masked as padding, per window: [b, blocks, 3·block] → [b, 1, 1, blocks, 1, 3·block].
        string keepPadded = g.Op("Pad", [keep, maskPads]);
        string keepBlocks = g.Op("Reshape", [keepPadded, g.Op("Concat", [g.Int64s(0, -1), block], OnnxAttribute.Int("axis", 0))]);
        string keepWindows = this.Windows(keepBlocks, blockCount);
        string keyAdditive = g.Op("Mul", [g.Op("Sub", [g.FloatScalar(1f), keepWindows]), g.FloatScalar(MaskedScore)]);
        keyAdditive = g.Op("Unsqueeze", [keyAdditive, g.Int64s(1, 2, 4)]);

        string additive = g.Op("Add", [keyAdditive, windowAdditive]);
        return new SlidingMasks(block, blockCount, queryPads, keyPads, additive);
    }
}
