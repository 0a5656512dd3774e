namespace T5Gemma2.Rag.Encoder.Models;

/// <summary>
/// The tensor names of an encoder graph, following the Optimum / transformers.js conventions, and the files a T5Gemma 2
/// conversion keeps them in: the contract between the converter that writes the graphs and the runners that read them.
/// </summary>
public static class EncoderGraphNames
{
    /// <summary>The encoder graph's path inside a converted T5Gemma 2 model directory.</summary>
    public const string GraphFile = "onnx/encoder_model.onnx";

    /// <summary>The tied embedding, raw fp32 [vocab, hidden], beside the graphs that reference it (encoder-decoder conversions).</summary>
    public const string SharedEmbeddingFile = "embed_tokens.onnx_data";

    /// <summary>The initializer that holds the token embedding table in the encoder and decoder step graphs, so a runtime can give both one copy.</summary>
    public const string EmbeddingTable = "embed_tokens.weight";

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
