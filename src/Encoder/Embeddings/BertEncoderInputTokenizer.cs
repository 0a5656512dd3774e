using Microsoft.ML.Tokenizers;
using T5Gemma2.Rag.Encoder.Models;

namespace T5Gemma2.Rag.Encoder.Embeddings;

/// <summary>BERT-family input: <c>[CLS]</c>, the WordPiece tokens, <c>[SEP]</c>; truncation keeps both markers.</summary>
internal sealed class BertEncoderInputTokenizer : EncoderInputTokenizer
{
    private readonly BertTokenizer _tokenizer;

    public BertEncoderInputTokenizer(ModelDirectory model)
    {
        this._tokenizer = (BertTokenizer)model.CreateTokenizer();
    }

    public override Tokenizer Tokenizer => this._tokenizer;

    public override int PaddingId => this._tokenizer.PaddingTokenId;

    public override int[] Encode(string text, int maxLength, out bool truncated)
    {
        int room = Math.Max(0, maxLength - 2);
        var ids = this._tokenizer.EncodeToIds(text, addSpecialTokens: false);
        truncated = ids.Count > room;
        int kept = Math.Min(room, ids.Count);
        var result = new int[kept + 2];
        result[0] = this._tokenizer.ClassificationTokenId;
        for (int i = 0; i < kept; i++)
        {
            result[i + 1] = ids[i];
        }

        result[kept + 1] = this._tokenizer.SeparatorTokenId;
        return result;
    }

    public override bool IsSpecial(int id) => id == this._tokenizer.ClassificationTokenId || id == this._tokenizer.SeparatorTokenId || id == this._tokenizer.PaddingTokenId;
}
