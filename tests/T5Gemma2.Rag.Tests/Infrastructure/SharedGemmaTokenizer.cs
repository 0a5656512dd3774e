using T5Gemma2.Rag.Encoder.Tokenization;

namespace T5Gemma2.Rag.Tests.Infrastructure;

/// <summary>The real Gemma 3 tokenizer, loaded once for the whole test assembly (loading takes about a second).</summary>
public sealed class SharedGemmaTokenizer
{
    public GemmaTokenizer Tokenizer { get; } = GemmaTokenizer.Create(TestAssets.GemmaTokenizerJson);
}
