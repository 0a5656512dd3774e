using Microsoft.ML.Tokenizers;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Tokenization;

namespace T5Gemma2.Rag.Encoder.Embeddings;

/// <summary>T5Gemma 2 encoder input as Hugging Face's tokenizer defaults build it: <c>&lt;bos&gt;</c> then the text's tokens, no eos; special-token strings in the text are plain text.</summary>
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
        truncated = ids.Count > maxLength;
        return truncated ? [.. ids.Take(maxLength)] : [.. ids];
    }
}
