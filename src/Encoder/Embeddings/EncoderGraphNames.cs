namespace T5Gemma2.Rag.Encoder.Embeddings;

/// <summary>The tensor names of an encoder graph, following the Optimum / transformers.js conventions.</summary>
public static class EncoderGraphNames
{
    /// <summary>int64 [batch, sequence].</summary>
    public const string InputIds = "input_ids";

    /// <summary>int64 [batch, sequence]: 1 for tokens, 0 for padding.</summary>
    public const string AttentionMask = "attention_mask";

    /// <summary>int64 [batch, sequence], BERT only: all zeros for a single sentence.</summary>
    public const string TokenTypeIds = "token_type_ids";

    /// <summary>float32 [image tokens, hidden], T5Gemma 2 only: soft tokens scattered into <c>&lt;image_soft_token&gt;</c> positions; empty for text.</summary>
    public const string ImageFeatures = "image_features";

    /// <summary>float32 [batch, sequence, hidden]: the encoder's per-token states.</summary>
    public const string LastHiddenState = "last_hidden_state";
}
