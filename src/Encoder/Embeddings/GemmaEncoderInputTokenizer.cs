using Microsoft.ML.Tokenizers;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Tokenization;

namespace T5Gemma2.Rag.Encoder.Embeddings;

/// <summary>
/// Gemma encoder input as Hugging Face's tokenizer builds it: <c>&lt;bos&gt;</c>, the text's tokens, and the end token
/// when the tokenizer's template appends one (EmbeddingGemma; T5Gemma 2 appends none). Special-token strings in the
/// text are plain text. Truncation cuts the text, so the end token stays last, as Hugging Face truncates.
/// </summary>
internal sealed class GemmaEncoderInputTokenizer : EncoderInputTokenizer
{
    private readonly GemmaTokenizer _tokenizer;

    public GemmaEncoderInputTokenizer(ModelDirectory model)
    {
        this._tokenizer = (GemmaTokenizer)model.CreateTokenizer();
    }

    public override Tokenizer Tokenizer => this._tokenizer;

    public override int PaddingId => this._tokenizer.PaddingId ?? this._tokenizer.UnknownId;

    public override int[] Encode(string text, int maxLength, out bool truncated)
    {
        // Passages and queries are untrusted: text that looks like <eos> or <start_of_image> stays text.
        var ids = this._tokenizer.EncodeToIdsAsPlainText(text, this._tokenizer.AddBeginningOfSentence);
        if (this._tokenizer.AppendedEndId is not int end)
        {
            truncated = ids.Count > maxLength;
            return truncated ? [.. ids.Take(maxLength)] : [.. ids];
        }

        int room = Math.Max(0, maxLength - 1);
        truncated = ids.Count > room;
        return [.. ids.Take(room), end];
    }

    public override bool IsSpecial(int id) => this._tokenizer.IsSpecialToken(id);
}
