namespace T5Gemma2.Rag.Encoder.Models;

/// <summary>
/// Tensor and file names of the decoder graphs. Each layer has one <em>merged cache</em>, because its attention takes
/// one softmax over [cross ‖ self] keys: positions [0, encoder length) hold the layer's cross keys and values (written
/// once per request by the cross-cache graph), the rest are slots for the decoder's own keys and values, which the
/// runtime fills one step at a time. Keys are stored [batch, kv_heads, capacity, head_dim] and values transposed,
/// [batch, kv_heads, head_dim, capacity], so both attention products stream the cache as the left operand of a
/// matrix product and no step copies it.
/// </summary>
public static class DecoderGraphNames
{
    /// <summary>One decoder step: new tokens and the merged caches → logits and the new tokens' keys and values.</summary>
    public const string StepFile = "onnx/decoder_model_merged.onnx";

    /// <summary>Encoder states → every layer's merged cache, cross part filled, self slots zero; once per request.</summary>
    public const string CrossCacheFile = "onnx/decoder_cross_cache.onnx";

    /// <summary>Why an int8 conversion has no decoder graphs, and what to convert instead.</summary>
    public const string Int8GenerationRefusal = "ONNX Runtime decodes 8-bit MatMulNBits weights at about 1.4 tokens/s on the 270m model, against 23 with int4 on one thread: convert with --weights int4 or fp32 to generate; int8 is for embedding";

    public const string InputIds = "input_ids";

    /// <summary>int64 [batch, encoder length]: which encoder states the cross part may attend to.</summary>
    public const string EncoderAttentionMask = "encoder_attention_mask";

    /// <summary>float32 [batch, encoder length, hidden]: the encoder's last_hidden_state (cross-cache graph input).</summary>
    public const string EncoderHiddenStates = "encoder_hidden_states";

    /// <summary>int64 [1]: how many self slots the cross-cache graph leaves after the cross part (the most decoder tokens the cache holds).</summary>
    public const string SelfCapacity = "self_capacity";

    /// <summary>int64 [1]: decoder tokens already in the caches' self slots; the new tokens take positions from there.</summary>
    public const string PastSequenceLength = "past_sequence_length";

    /// <summary>float32 [batch, new tokens, vocab].</summary>
    public const string Logits = "logits";

    /// <summary>Layer <paramref name="layer"/>'s merged key cache, [batch, kv_heads, encoder length + self capacity, head_dim]: cross keys k_norm(k_proj(enc)) without RoPE, then self keys after k_norm and RoPE.</summary>
    public static string CacheKey(int layer) => $"cache.{layer}.key";

    /// <summary>Layer <paramref name="layer"/>'s merged value cache, transposed: [batch, kv_heads, head_dim, encoder length + self capacity].</summary>
    public static string CacheValueTransposed(int layer) => $"cache.{layer}.value_transposed";

    /// <summary>The step's new self keys of layer <paramref name="layer"/>, [batch, kv_heads, new tokens, head_dim], for the runtime to store in the cache.</summary>
    public static string NewKey(int layer) => $"new.{layer}.key";

    /// <summary>The step's new self values of layer <paramref name="layer"/>, transposed: [batch, kv_heads, head_dim, new tokens].</summary>
    public static string NewValueTransposed(int layer) => $"new.{layer}.value_transposed";

    /// <summary>An input of the step graphs written before merged caches (separate self and cross caches); such a conversion must be redone.</summary>
    internal const string SeparateCachesInput = "past_key_values.0.decoder.key";
}
