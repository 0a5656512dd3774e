using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Onnx.Graph;

namespace T5Gemma2.Rag.Encoder.Conversion;

/// <summary>
/// Writes the T5Gemma 2 decoder as two ONNX graphs (../shared/docs/t5gemma2-architecture.md §3) over one merged cache
/// per layer (<see cref="DecoderGraphNames"/>): a cross-cache graph that writes the encoder's keys k_norm(k_proj(enc))
/// (no RoPE) and values v_proj(enc) at the head of each layer's cache, once per request, leaving zeroed slots for the
/// decoder's own; and a step graph whose merged attention takes one softmax over [cross ‖ self] keys.
/// </summary>
/// <remarks>
/// The step is built for batch-1 decoding, which reads every weight once per token and so is bound by operator count
/// and memory traffic: q/k/v and gate/up are one product each, norms that follow a residual add are one node, RoPE is
/// ONNX Runtime's RotaryEmbedding, and attention never copies the cache: keys [b, kv, capacity, d] and transposed
/// values [b, kv, d, capacity] are each the left operand of one matrix product against the few query rows, all
/// capacity slots are scored and the unfilled ones masked, and the new tokens' own keys are scored beside them. The
/// step outputs those new keys and values; the runtime writes them into the cache's next slots.
/// </remarks>
internal sealed class T5Gemma2DecoderGraphBuilder : T5Gemma2StackGraphBuilder
{
    /// <summary>A decoder position no query reaches: unfilled self slots get it, so the causal test hides them.</summary>
    private const long Unfilled = long.MaxValue / 4;

    private T5Gemma2DecoderGraphBuilder(string name, T5Gemma2Config config, T5Gemma2StackWeights decoder, T5Gemma2StackWeights encoder, LinearWeights linear)
        : base(name, config, decoder, encoder, linear)
    {
    }

    /// <summary>encoder_hidden_states, self_capacity → cache.{i}.key and cache.{i}.value_transposed for every layer.</summary>
    public static OnnxGraph BuildCrossCache(T5Gemma2Config config, T5Gemma2StackWeights decoder, T5Gemma2StackWeights encoder, LinearWeights linear)
    {
        var builder = new T5Gemma2DecoderGraphBuilder("t5gemma2_decoder_cross_cache", config, decoder, encoder, linear);
        var g = builder.Graph;
        var c = builder.Stack;
        int kv = c.NumKeyValueHeads, d = c.HeadDim;
        string states = g.Input(DecoderGraphNames.EncoderHiddenStates, OnnxDataType.Float, "batch", "encoder_sequence", c.HiddenSize);
        string capacity = g.Input(DecoderGraphNames.SelfCapacity, OnnxDataType.Int64, 1);

        // Pad's pads: the begin of every axis, then the end; the self slots follow the cross positions.
        string keyPads = g.Op("Concat", [g.Int64s(0, 0, 0, 0, 0, 0), capacity, g.Int64s(0)], OnnxAttribute.Int("axis", 0));
        string valuePads = g.Op("Concat", [g.Int64s(0, 0, 0, 0, 0, 0, 0), capacity], OnnxAttribute.Int("axis", 0));
        for (int layer = 0; layer < c.NumLayers; layer++)
        {
            string p = $"layers.{layer}.";
            string[] kvProjected = builder.FusedLinear(states, p + "self_attn.kv_proj.weight", p + "self_attn.k_proj.weight", p + "self_attn.v_proj.weight");
            string k = builder.RmsNorm(g.Op("Reshape", [kvProjected[0], g.Int64s(0, 0, kv, d)]), p + "self_attn.k_norm.weight");
            string key = g.Op("Pad", [g.Op("Transpose", [k], OnnxAttribute.Ints("perm", 0, 2, 1, 3)), keyPads]);
            string value = g.Op("Pad", [g.Op("Transpose", [g.Op("Reshape", [kvProjected[1], g.Int64s(0, 0, kv, d)])], OnnxAttribute.Ints("perm", 0, 2, 3, 1)), valuePads]);
            g.Output(key, DecoderGraphNames.CacheKey(layer), OnnxDataType.Float, "batch", kv, "cache_length", d);
            g.Output(value, DecoderGraphNames.CacheValueTransposed(layer), OnnxDataType.Float, "batch", kv, d, "cache_length");
        }

        g.Metadata["model_type"] = "t5gemma2_decoder_cross_cache";
        g.Metadata["cache_layout"] = CacheLayout;
        return g;
    }

    /// <summary>Recorded in both graphs' metadata: merged caches, keys natural and values transposed.</summary>
    public const string CacheLayout = "merged-cross-self-v2";

    /// <summary>One decoder step over the merged caches.</summary>
    public static OnnxGraph BuildStep(T5Gemma2Config config, T5Gemma2StackWeights decoder, T5Gemma2StackWeights encoder, LinearWeights linear, string? sharedEmbeddingFile = null)
    {
        var builder = new T5Gemma2DecoderGraphBuilder("t5gemma2_decoder", config, decoder, encoder, linear) { SharedEmbeddingFile = sharedEmbeddingFile };
        builder.BuildStepGraph();
        return builder.Graph;
    }

    private void BuildStepGraph()
    {
        var g = this.Graph;
        var c = this.Stack;
        int kv = c.NumKeyValueHeads, d = c.HeadDim, groups = c.QueriesPerKeyValueHead;
        string ids = g.Input(DecoderGraphNames.InputIds, OnnxDataType.Int64, "batch", "sequence");
        string encoderMask = g.Input(DecoderGraphNames.EncoderAttentionMask, OnnxDataType.Int64, "batch", "encoder_sequence");
        string past = g.Input(DecoderGraphNames.PastSequenceLength, OnnxDataType.Int64, 1);
        var keys = new string[c.NumLayers];
        var values = new string[c.NumLayers];
        for (int layer = 0; layer < c.NumLayers; layer++)
        {
            keys[layer] = g.Input(DecoderGraphNames.CacheKey(layer), OnnxDataType.Float, "batch", kv, "cache_length", d);
            values[layer] = g.Input(DecoderGraphNames.CacheValueTransposed(layer), OnnxDataType.Float, "batch", kv, d, "cache_length");
        }

        var shape = new StepShape(g, ids, encoderMask, keys[0], past, groups);
        string positions = g.Op("Cast", [shape.QueryPositions], OnnxAttribute.Int("to", (long)OnnxDataType.Float));
        var rope = new Dictionary<AttentionLayerType, (string Cos, string Sin)>();
        var masks = new Dictionary<AttentionLayerType, string>();
        string crossMask = this.CrossMask(encoderMask, shape);
        foreach (var type in c.LayerTypes.Distinct())
        {
            rope[type] = this.RotaryCaches(positions, c.RopeFor(type));
            masks[type] = g.Op("Concat", [crossMask, this.SelfMask(type, shape)], OnnxAttribute.Int("axis", 2));
        }

        string x = this.TokenEmbedding(ids);
        string? branch = null;
        for (int layer = 0; layer < c.NumLayers; layer++)
        {
            string p = $"layers.{layer}.";
            var type = c.LayerTypes[layer];
            (string h, x) = this.Join(x, branch, p + "pre_self_attn_layernorm.weight");
            var (q, k, v) = this.ProjectFused(h, p, rope[type]);

            // Queries as the few right-hand columns, [b, kv, d, s·groups]: query head kv_i·groups + group_i.
            string queries = g.Op("Reshape", [g.Op("Transpose", [g.Op("Reshape", [q, g.Int64s(0, 0, kv, groups, d)])], OnnxAttribute.Ints("perm", 0, 2, 4, 1, 3)), g.Int64s(0, kv, d, -1)]);
            string newKey = g.Op("Transpose", [g.Op("Reshape", [k, g.Int64s(0, 0, kv, d)])], OnnxAttribute.Ints("perm", 0, 2, 1, 3)); // [b, kv, s, d]
            string newValue = g.Op("Transpose", [g.Op("Reshape", [v, g.Int64s(0, 0, kv, d)])], OnnxAttribute.Ints("perm", 0, 2, 3, 1)); // [b, kv, d, s]
            g.Output(newKey, DecoderGraphNames.NewKey(layer), OnnxDataType.Float, "batch", kv, "sequence", d);
            g.Output(newValue, DecoderGraphNames.NewValueTransposed(layer), OnnxDataType.Float, "batch", kv, d, "sequence");

            // Merged attention: one softmax over [cache ‖ new] keys, scored as [b, kv, keys, s·groups].
            string scores = g.Op("Concat", [g.Op("MatMul", [keys[layer], queries]), g.Op("MatMul", [newKey, queries])], OnnxAttribute.Int("axis", 2));
            string probabilities = g.Op("Softmax", [g.Op("Add", [this.Softcap(scores, c.AttentionLogitSoftcapping), masks[type]])], OnnxAttribute.Int("axis", 2));
            string[] parts = g.OpMulti("Split", [probabilities, shape.CacheAndNew], 2, OnnxAttribute.Int("axis", 2));
            string attended = g.Op("Add", [g.Op("MatMul", [values[layer], parts[0]]), g.Op("MatMul", [newValue, parts[1]])]); // [b, kv, d, s·groups]
            attended = g.Op("Transpose", [g.Op("Reshape", [attended, g.Int64s(0, kv, d, -1, groups)])], OnnxAttribute.Ints("perm", 0, 3, 1, 4, 2));
            attended = g.Op("Reshape", [attended, g.Int64s(0, 0, (long)c.NumAttentionHeads * d)]);
            string attention = this.RmsNorm(this.Linear(attended, p + "self_attn.o_proj.weight"), p + "post_self_attn_layernorm.weight");

            (h, x) = this.Join(x, attention, p + "pre_feedforward_layernorm.weight");
            branch = this.MlpBranch(h, p);
        }

        (x, _) = this.Join(x, branch, "norm.weight");
        string logits = this.Logits(x, shape.Ids);
        g.Output(this.Softcap(logits, c.FinalLogitSoftcapping), DecoderGraphNames.Logits, OnnxDataType.Float, "batch", "sequence", c.VocabSize);
        g.Metadata["model_type"] = "t5gemma2_decoder";
        g.Metadata["cache_layout"] = CacheLayout;
    }

    /// <summary>The cross part of every mask, [b, 1, encoder, s·groups]: the encoder's padding only, no window, the same for every layer type.</summary>
    private string CrossMask(string encoderMask, StepShape shape)
    {
        var g = this.Graph;
        string keep = g.Op("Cast", [encoderMask], OnnxAttribute.Int("to", (long)OnnxDataType.Float));
        string additive = g.Op("Unsqueeze", [g.Op("Mul", [g.Op("Sub", [g.FloatScalar(1f), keep]), g.FloatScalar(MaskedScore)]), g.Int64s(1, 3)]);
        return g.Op("Expand", [additive, g.Op("Concat", [shape.Batch, g.Int64s(1), shape.Encoder, shape.QueryColumns], OnnxAttribute.Int("axis", 0))]);
    }

    /// <summary>
    /// The self part, [b, 1, self slots + s, s·groups]: a filled slot or an earlier-or-same new token is visible (causal),
    /// and on sliding layers only within the decoder's causal window (itself and the W − 1 tokens before it).
    /// </summary>
    private string SelfMask(AttentionLayerType type, StepShape shape)
    {
        var g = this.Graph;
        string slots = g.Op("Range", [g.Int64Scalar(0), shape.SelfSlotsScalar, g.Int64Scalar(1)]);
        string slotPositions = g.Op("Where", [g.Op("Less", [slots, shape.PastScalar]), slots, g.Int64Scalar(Unfilled)]);
        string keyPositions = g.Op("Unsqueeze", [g.Op("Concat", [slotPositions, shape.QueryPositions], OnnxAttribute.Int("axis", 0)), g.Int64s(1)]); // [keys, 1]
        string queryPositions = g.Op("Unsqueeze", [shape.QueryPositions, g.Int64s(0)]); // [1, s]
        string visible = g.Op("LessOrEqual", [keyPositions, queryPositions]);
        if (type == AttentionLayerType.Sliding)
        {
            visible = g.Op("And", [visible, g.Op("Less", [g.Op("Sub", [queryPositions, keyPositions]), g.Int64Scalar(this.Stack.SlidingWindow)])]);
        }

        string additive = g.Op("Where", [visible, g.FloatScalar(0f), g.FloatScalar(MaskedScore)]); // [keys, s]
        string keyCount = g.Op("Slice", [g.Op("Shape", [keyPositions]), g.Int64s(0), g.Int64s(1)]);
        string perGroup = g.Op("Concat", [keyCount, shape.Length, g.Int64s(this.Stack.QueriesPerKeyValueHead)], OnnxAttribute.Int("axis", 0));
        string columns = g.Op("Concat", [g.Int64s(1, 1), keyCount, shape.QueryColumns], OnnxAttribute.Int("axis", 0));
        additive = g.Op("Reshape", [g.Op("Expand", [g.Op("Unsqueeze", [additive, g.Int64s(-1)]), perGroup]), columns]); // [1, 1, keys, s·groups]
        return g.Op("Expand", [additive, g.Op("Concat", [shape.Batch, g.Int64s(1, 1), shape.QueryColumns], OnnxAttribute.Int("axis", 0))]);
    }

    /// <summary>
    /// Logits through the tied embedding, [b, t, vocab]: Gemm with transB on the fp32 table (no transposed copy) for fp32
    /// and int8 weights, a 4-bit copy for int4. ONNX Runtime's 8-bit MatMulNBits has no fast one-row CPU kernel with fp32
    /// activations (measured: 1.9 tokens/s through an int8 head against 14.6 with the fp32 one on 270m).
    /// </summary>
    private string Logits(string x, string idsShape)
    {
        var g = this.Graph;
        int hidden = this.Stack.HiddenSize;
        string flat = g.Op("Reshape", [x, g.Int64s(-1, hidden)]);
        string logits = this.LinearFormat is { Name: "fp32" or "int8" }
            ? g.Op("Gemm", [flat, this.EmbeddingTable], OnnxAttribute.Int("transB", 1))
            : this.LinearFormat.Apply(g, flat, "lm_head.weight", [this.Stack.VocabSize, hidden], () => this.Embedding.Read("embed_tokens.weight"));
        return g.Op("Reshape", [logits, g.Op("Concat", [idsShape, g.Int64s(this.Stack.VocabSize)], OnnxAttribute.Int("axis", 0))]);
    }

    /// <summary>The step's sizes, computed once from its inputs' shapes and shared by every layer.</summary>
    private sealed class StepShape
    {
        public StepShape(OnnxGraph g, string ids, string encoderMask, string firstKeys, string past, int groups)
        {
            this.Ids = g.Op("Shape", [ids]);
            this.Batch = g.Op("Slice", [this.Ids, g.Int64s(0), g.Int64s(1)]);
            this.Length = g.Op("Slice", [this.Ids, g.Int64s(1), g.Int64s(2)]);
            this.Encoder = g.Op("Slice", [g.Op("Shape", [encoderMask]), g.Int64s(1), g.Int64s(2)]);
            string capacity = g.Op("Slice", [g.Op("Shape", [firstKeys]), g.Int64s(2), g.Int64s(3)]);
            this.SelfSlotsScalar = g.Op("Squeeze", [g.Op("Sub", [capacity, this.Encoder]), g.Int64s(0)]);
            this.PastScalar = g.Op("Squeeze", [past, g.Int64s(0)]);
            string lengthScalar = g.Op("Squeeze", [this.Length, g.Int64s(0)]);
            this.QueryPositions = g.Op("Range", [this.PastScalar, g.Op("Add", [this.PastScalar, lengthScalar]), g.Int64Scalar(1)]);
            this.QueryColumns = g.Op("Mul", [this.Length, g.Int64s(groups)]);
            this.CacheAndNew = g.Op("Concat", [capacity, this.Length], OnnxAttribute.Int("axis", 0));
        }

        /// <summary>Shape of input_ids, [2].</summary>
        public string Ids { get; }

        public string Batch { get; }

        /// <summary>New tokens, [1].</summary>
        public string Length { get; }

        /// <summary>Encoder length, [1].</summary>
        public string Encoder { get; }

        /// <summary>Self slots of the caches (capacity − encoder length), a scalar.</summary>
        public string SelfSlotsScalar { get; }

        public string PastScalar { get; }

        /// <summary>The new tokens' decoder positions, past … past + s − 1.</summary>
        public string QueryPositions { get; }

        /// <summary>s · groups, [1]: the query columns of every attention product.</summary>
        public string QueryColumns { get; }

        /// <summary>[capacity, s]: how the scores split between cache and new keys.</summary>
        public string CacheAndNew { get; }
    }
}
