using Microsoft.ML.Tokenizers;

namespace T5Gemma2.Rag.Packing;

/// <summary>
/// The tokenizer a chat model's context is counted in when the model's own is not at hand: OpenAI's o200k (gpt-4o),
/// close enough to any modern chat model's to keep a packed context within its window. Its ids are never sent.
/// </summary>
public static class ChatTokenizer
{
    // Its data is loaded once, on first use.
    private static readonly Lazy<Tokenizer> s_default = new(() => TiktokenTokenizer.CreateForModel("gpt-4o"));

    /// <summary>The shared o200k tokenizer.</summary>
    public static Tokenizer Default => s_default.Value;
}
