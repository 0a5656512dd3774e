namespace T5Gemma2.Rag.Encoder.Generation;

/// <summary>
/// Tensor and file names of the decoder graphs, following Optimum / transformers.js where they apply:
/// <c>past_key_values.{i}.decoder|encoder.key|value</c> in, <c>present.{i}.decoder|encoder.key|value</c> out.
/// </summary>
public static class DecoderGraphNames
{
    /// <summary>One decoder step: new tokens, the self cache so far, the cross cache → logits and the grown self cache.</summary>
    public const string StepFile = "onnx/decoder_model_merged.onnx";

    /// <summary>Ours: encoder states → every layer's cross keys and values, computed once per request.</summary>
    public const string CrossCacheFile = "onnx/decoder_cross_cache.onnx";

    public const string InputIds = "input_ids";

    /// <summary>int64 [batch, encoder length]: which encoder states the cross part may attend to.</summary>
    public const string EncoderAttentionMask = "encoder_attention_mask";

    /// <summary>float32 [batch, encoder length, hidden]: the encoder's last_hidden_state (cross-cache graph input).</summary>
    public const string EncoderHiddenStates = "encoder_hidden_states";

    /// <summary>float32 [batch, new tokens, vocab].</summary>
    public const string Logits = "logits";

    /// <summary>The self-attention key cache of layer <paramref name="layer"/>: [batch, kv_heads, past, head_dim], after k_norm and RoPE.</summary>
    public static string PastSelfKey(int layer) => $"past_key_values.{layer}.decoder.key";

    public static string PastSelfValue(int layer) => $"past_key_values.{layer}.decoder.value";

    /// <summary>The cross key cache of layer <paramref name="layer"/>: [batch, kv_heads, encoder length, head_dim], after k_norm, no RoPE.</summary>
    public static string PastCrossKey(int layer) => $"past_key_values.{layer}.encoder.key";

    public static string PastCrossValue(int layer) => $"past_key_values.{layer}.encoder.value";

    public static string PresentSelfKey(int layer) => $"present.{layer}.decoder.key";

    public static string PresentSelfValue(int layer) => $"present.{layer}.decoder.value";

    public static string PresentCrossKey(int layer) => $"present.{layer}.encoder.key";

    public static string PresentCrossValue(int layer) => $"present.{layer}.encoder.value";
}
