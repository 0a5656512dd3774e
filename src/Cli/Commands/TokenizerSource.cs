using Microsoft.ML.Tokenizers;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Tokenization;

namespace T5Gemma2.Rag.Cli.Commands;

/// <summary>Loads the tokenizer a <c>--tokenizer</c> option names: a tokenizer.json, or a model directory of either kind.</summary>
internal static class TokenizerSource
{
    public static Tokenizer Load(string path)
    {
        if (Directory.Exists(path) && File.Exists(Path.Combine(path, "config.json")))
        {
            return ModelDirectory.Open(path).CreateTokenizer();
        }

        return GemmaTokenizer.Create(path);
    }

    /// <summary>Ids of <paramref name="text"/>, with the model's special tokens (bos; or [CLS]/[SEP]) only when asked.</summary>
    public static IReadOnlyList<int> Encode(Tokenizer tokenizer, string text, bool withSpecialTokens) => tokenizer switch
    {
        GemmaTokenizer gemma => gemma.EncodeToIds(text, addBeginningOfSentence: withSpecialTokens, addEndOfSentence: false),
        BertTokenizer bert => bert.EncodeToIds(text, addSpecialTokens: withSpecialTokens, considerPreTokenization: true, considerNormalization: true),
        _ => tokenizer.EncodeToIds(text),
    };
}
