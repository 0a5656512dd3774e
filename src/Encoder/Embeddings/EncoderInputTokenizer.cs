using Microsoft.ML.Tokenizers;
using T5Gemma2.Rag.Encoder.Models;

namespace T5Gemma2.Rag.Encoder.Embeddings;

/// <summary>
/// Turns text into the ids one model kind's encoder expects, special tokens included, cut to the model's maximum
/// length. Each model kind has its own; callers of the embedding generator never see which.
/// </summary>
internal abstract class EncoderInputTokenizer
{
    /// <summary>The tokenizer underneath, for callers that count or split text the way the model does.</summary>
    public abstract Tokenizer Tokenizer { get; }

    /// <summary>The id that fills padded positions (masked out, so any valid id would do; the model's own keeps graphs happy).</summary>
    public abstract int PaddingId { get; }

    /// <summary>Ids for one input, at most <paramref name="maxLength"/> of them; <paramref name="truncated"/> says whether text was cut.</summary>
    public abstract int[] Encode(string text, int maxLength, out bool truncated);

    /// <summary>Whether an id is one of the special tokens the input adds (bos, eos, [CLS], [SEP]).</summary>
    public abstract bool IsSpecial(int id);

    public static EncoderInputTokenizer Create(ModelDirectory model) => model.Kind switch
    {
        ModelKind.T5Gemma2 or ModelKind.Gemma3Encoder => new GemmaEncoderInputTokenizer(model),
        ModelKind.BertSentenceTransformer => new BertEncoderInputTokenizer(model),
        _ => throw new ArgumentOutOfRangeException(nameof(model), model.Kind, "unknown model kind"),
    };
}
