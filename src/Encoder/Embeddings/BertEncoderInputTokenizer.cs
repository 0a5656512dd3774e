using System.Text;
using Microsoft.ML.Tokenizers;
using T5Gemma2.Rag.Encoder.Models;

namespace T5Gemma2.Rag.Encoder.Embeddings;

/// <summary>BERT-family input: <c>[CLS]</c>, the WordPiece tokens, <c>[SEP]</c>; truncation keeps both markers.</summary>
internal sealed class BertEncoderInputTokenizer : EncoderInputTokenizer
{
    private readonly BertTokenizer _tokenizer;

    public BertEncoderInputTokenizer(ModelDirectory model)
    {
        string vocabulary;
        try
        {
            // Some exports ship vocab.txt with CRLF line endings; the tokenizer would keep the '\r' in every token.
            vocabulary = File.ReadAllText(model.TokenizerPath).Replace("\r\n", "\n", StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModelFileException(model.TokenizerPath, $"cannot be read ({ex.Message}).", ex);
        }

        if (!vocabulary.Contains("[CLS]\n", StringComparison.Ordinal) || !vocabulary.Contains("[SEP]\n", StringComparison.Ordinal))
        {
            throw new ModelFileException(model.TokenizerPath, "has no [CLS] or [SEP] line; expected a BERT WordPiece vocabulary, one token per line.");
        }

        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(vocabulary));
        this._tokenizer = BertTokenizer.Create(stream, new BertOptions { LowerCaseBeforeTokenization = model.LowerCase });
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
}
