using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Onnx.Graph;

namespace T5Gemma2.Rag.Encoder.Conversion;

/// <summary>
/// Writes the T5Gemma 2 decoder as two ONNX graphs (../shared/docs/t5gemma2-architecture.md §3): a cross-cache graph
/// that turns the encoder's states into every layer's cross keys k_norm(k_proj(enc)) (no RoPE) and values v_proj(enc),
/// once per request; and a step graph whose merged attention takes one softmax over [self ‖ cross] keys: self keys
/// with RoPE at decoder positions, causal (and windowed on sliding layers), cross keys masked only by the encoder's
/// padding. The self cache grows by the new tokens each step; logits come through the tied embedding.
/// </summary>
internal sealed class T5Gemma2DecoderGraphBuilder : T5Gemma2StackGraphBuilder
{
    private T5Gemma2DecoderGraphBuilder(string name, T5Gemma2Config config, T5Gemma2StackWeights decoder, T5Gemma2StackWeights encoder, LinearWeights linear)
        : base(name, config, decoder, encoder, linear)
    {
    }

    /// <summary>encoder_hidden_states → present.{i}.encoder.key|value for every layer.</summary>
    public static OnnxGraph BuildCrossCache(T5Gemma2Config config, T5Gemma2StackWeights decoder, T5Gemma2StackWeights encoder, LinearWeights linear)
    {
        var builder = new T5Gemma2DecoderGraphBuilder("t5gemma2_decoder_cross_cache", config, decoder, encoder, linear);
        var g = builder.Graph;
        var c = builder.Stack;
        string states = g.Input(DecoderGraphNames.EncoderHiddenStates, OnnxDataType.Float, "batch", "encoder_sequence", c.HiddenSize);
        for (int layer = 0; layer < c.NumLayers; layer++)
        {
            string p = $"layers.{layer}.";
            string k = g.Op("Transpose", [builder.Keys(states, p, rope: null)], OnnxAttribute.Ints("perm", 0, 2, 1, 3));
            string v = g.Op("Transpose", [builder.Values(states, p)], OnnxAttribute.Ints("perm", 0, 2, 1, 3));
            g.Output(k, DecoderGraphNames.PresentCrossKey(layer), OnnxDataType.Float, "batch", c.NumKeyValueHeads, "encoder_sequence", c.HeadDim);
            g.Output(v, DecoderGraphNames.PresentCrossValue(layer), OnnxDataType.Float, "batch", c.NumKeyValueHeads, "encoder_sequence", c.HeadDim);
        }

        g.Metadata["model_type"] = "t5gemma2_decoder_cross_cache";
        return g;
    }

    /// <summary>One decoder step over the caches.</summary>
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
        int kv = c.NumKeyValueHeads, d = c.HeadDim;
        string ids = g.Input(DecoderGraphNames.InputIds, OnnxDataType.Int64, "batch", "sequence");
        string encoderMask = g.Input(DecoderGraphNames.EncoderAttentionMask, OnnxDataType.Int64, "batch", "encoder_sequence");
        var pastKeys = new string[c.NumLayers];
        var pastValues = new string[c.NumLayers];
        var crossKeys = new string[c.NumLayers];
        var crossValues = new string[c.NumLayers];
        for (int layer = 0; layer < c.NumLayers; layer++)
        {
            pastKeys[layer] = g.Input(DecoderGraphNames.PastSelfKey(layer), OnnxDataType.Float, "batch", kv, "past_sequence", d);
            pastValues[layer] = g.Input(DecoderGraphNames.PastSelfValue(layer), OnnxDataType.Float, "batch", kv, "past_sequence", d);
            crossKeys[layer] = g.Input(DecoderGraphNames.PastCrossKey(layer), OnnxDataType.Float, "batch", kv, "encoder_sequence", d);
            crossValues[layer] = g.Input(DecoderGraphNames.PastCrossValue(layer), OnnxDataType.Float, "batch", kv, "encoder_sequence", d);
        }

        string shape = g.Op("Shape", [ids]);
        string batch = g.Op("Slice", [shape, g.Int64s(0), g.Int64s(1)]);
        string length = g.Op("Slice", [shape, g.Int64s(1), g.Int64s(2)]);
        string past = g.Op("Slice", [g.Op("Shape", [pastKeys[0]]), g.Int64s(2), g.Int64s(3)]);
        string lengthScalar = g.Op("Squeeze", [length, g.Int64s(0)]);
        string pastScalar = g.Op("Squeeze", [past, g.Int64s(0)]);

        // Positions continue from the cache length.
        string positions = this.Positions(pastScalar, lengthScalar);
        var rope = new Dictionary<AttentionLayerType, (string Cos, string Sin)>();
        var masks = new Dictionary<AttentionLayerType, string>();
        string crossMask = this.CrossMask(encoderMask, batch, length);
        foreach (var type in c.LayerTypes.Distinct())
        {
            rope[type] = this.RotaryTables(positions, c.RopeFor(type));
            masks[type] = this.MergedMask(type, crossMask, batch, length, pastScalar, lengthScalar);
        }

        string x = this.TokenEmbedding(ids);
        for (int layer = 0; layer < c.NumLayers; layer++)
        {
            string p = $"layers.{layer}.";
            var type = c.LayerTypes[layer];
            string h = this.RmsNorm(x, p + "pre_self_attn_layernorm.weight");
            string q = this.Queries(h, p, rope[type]);
            string k = g.Op("Transpose", [this.Keys(h, p, rope[type])], OnnxAttribute.Ints("perm", 0, 2, 1, 3));
            string v = g.Op("Transpose", [this.Values(h, p)], OnnxAttribute.Ints("perm", 0, 2, 1, 3));
            string selfKeys = g.Op("Concat", [pastKeys[layer], k], OnnxAttribute.Int("axis", 2));
            string selfValues = g.Op("Concat", [pastValues[layer], v], OnnxAttribute.Int("axis", 2));
            g.Output(selfKeys, DecoderGraphNames.PresentSelfKey(layer), OnnxDataType.Float, "batch", kv, "total_sequence", d);
            g.Output(selfValues, DecoderGraphNames.PresentSelfValue(layer), OnnxDataType.Float, "batch", kv, "total_sequence", d);

            // Merged attention: one softmax over [self ‖ cross].
            string keys = g.Op("Concat", [selfKeys, crossKeys[layer]], OnnxAttribute.Int("axis", 2));
            string values = g.Op("Concat", [selfValues, crossValues[layer]], OnnxAttribute.Int("axis", 2));
            string q5 = g.Op("Transpose", [g.Op("Reshape", [q, g.Int64s(0, 0, kv, c.QueriesPerKeyValueHead, d)])], OnnxAttribute.Ints("perm", 0, 2, 3, 1, 4));
            string kT = g.Op("Unsqueeze", [g.Op("Transpose", [keys], OnnxAttribute.Ints("perm", 0, 1, 3, 2)), g.Int64s(2)]);
            string v5 = g.Op("Unsqueeze", [values, g.Int64s(2)]);
            string scores = g.Op("Add", [this.Softcap(g.Op("MatMul", [q5, kT]), c.AttentionLogitSoftcapping), masks[type]]);
            string attended = g.Op("MatMul", [g.Op("Softmax", [scores], OnnxAttribute.Int("axis", -1)), v5]);
            attended = g.Op("Reshape", [g.Op("Transpose", [attended], OnnxAttribute.Ints("perm", 0, 3, 1, 2, 4)), g.Int64s(0, 0, (long)c.NumAttentionHeads * d)]);
            string output = this.RmsNorm(this.Linear(attended, p + "self_attn.o_proj.weight"), p + "post_self_attn_layernorm.weight");
            x = g.Op("Add", [x, output]);
            x = this.FeedForward(x, p);
        }

        x = this.RmsNorm(x, "norm.weight");
        string logits = this.Logits(x, shape);
        g.Output(this.Softcap(logits, c.FinalLogitSoftcapping), DecoderGraphNames.Logits, OnnxDataType.Float, "batch", "sequence", c.VocabSize);
        g.Metadata["model_type"] = "t5gemma2_decoder";
    }

    /// <summary>
    /// Additive mask [b, 1, 1, new, past + new + encoder]: self keys up to the query's own position (and, on sliding
    /// layers, no further back than the window), then every encoder state the encoder mask keeps.
    /// </summary>
    private string MergedMask(AttentionLayerType type, string crossMask, string batch, string length, string pastScalar, string lengthScalar)
    {
        var g = this.Graph;
        string total = g.Op("Add", [pastScalar, lengthScalar]);
        string queries = g.Op("Unsqueeze", [g.Op("Range", [pastScalar, total, g.Int64Scalar(1)]), g.Int64s(1)]); // [new, 1]
        string keys = g.Op("Unsqueeze", [g.Op("Range", [g.Int64Scalar(0), total, g.Int64Scalar(1)]), g.Int64s(0)]); // [1, total]
        string visible = g.Op("LessOrEqual", [keys, queries]);
        if (type == AttentionLayerType.Sliding)
        {
            // The decoder's window is causal: itself and the W − 1 tokens before it.
            visible = g.Op("And", [visible, g.Op("Greater", [keys, g.Op("Sub", [queries, g.Int64Scalar(this.Stack.SlidingWindow)])])]);
        }

        string self = g.Op("Where", [visible, g.FloatScalar(0f), g.FloatScalar(MaskedScore)]); // [new, total]
        string selfShape = g.Op("Concat", [batch, g.Int64s(1, 1), length, g.Op("Unsqueeze", [total, g.Int64s(0)])], OnnxAttribute.Int("axis", 0));
        self = g.Op("Expand", [self, selfShape]);

        return g.Op("Concat", [self, crossMask], OnnxAttribute.Int("axis", -1));
    }

    /// <summary>The cross part of the mask, [b, 1, 1, new, encoder]: the same for every layer type, so built once.</summary>
    private string CrossMask(string encoderMask, string batch, string length)
    {
        var g = this.Graph;
        string keep = g.Op("Cast", [encoderMask], OnnxAttribute.Int("to", (long)OnnxDataType.Float));
        string cross = g.Op("Mul", [g.Op("Sub", [g.FloatScalar(1f), keep]), g.FloatScalar(MaskedScore)]);
        cross = g.Op("Unsqueeze", [cross, g.Int64s(1, 2, 3)]); // [b, 1, 1, 1, encoder]
        string crossShape = g.Op("Concat", [batch, g.Int64s(1, 1), length, g.Op("Slice", [g.Op("Shape", [encoderMask]), g.Int64s(1), g.Int64s(2)])], OnnxAttribute.Int("axis", 0));
        cross = g.Op("Expand", [cross, crossShape]);
        return cross;
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
}
