using Microsoft.ML.Tokenizers;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Packing;
using T5Gemma2.Rag.Retrieval;

namespace T5Gemma2.Rag.Tests.Answering;

/// <summary>The packer for a chat model: the same template and numbering as text, counted in the chat model's tokens.</summary>
public sealed class ChatModelPackingTests
{
    private static readonly Tokenizer s_o200k = TiktokenTokenizer.CreateForModel("gpt-4o");

    [Fact]
    public void TheContextIsTextWithinTheBudgetCountedByTheChatModelsTokenizer()
    {
        var packer = ContextPacker.ForChatModel(s_o200k, 300);
        var passages = Enumerable.Range(1, 6).Select(i => Passage(i, string.Join(' ', Enumerable.Repeat($"Sentence {i} of the passage about rotation <|endoftext|> <eos>.", 8)))).ToList();

        var context = packer.Pack("How often are keys rotated?", passages);

        Assert.False(packer.TakesImages);
        Assert.StartsWith(PackingOptions.Default.Instruction, context.Text, StringComparison.Ordinal);
        Assert.EndsWith("Question: How often are keys rotated?\nAnswer:", context.Text, StringComparison.Ordinal);
        Assert.InRange(context.TokenCount, 200, 300);
        Assert.Equal(300, context.TokenBudget);

        // The count is the tokenizer's (within a few tokens: pieces are counted apart), and what did not fit is left out.
        Assert.InRange(s_o200k.CountTokens(context.Text), context.TokenCount - 10, context.TokenCount + 10);
        Assert.True(context.LeftOut > 0);
        Assert.Contains("<|endoftext|> <eos>", context.Text, StringComparison.Ordinal);
        Assert.Equal(Enumerable.Range(1, context.Passages.Count), context.Passages.Select(p => p.Number));
        Assert.All(context.Passages, p => Assert.Contains($"[{p.Number}] Title {p.Passage.DocumentId}", context.Text, StringComparison.Ordinal));
    }

    [Fact]
    public void TokensReservedForTheSystemMessageAndTheAnswerAreLeftFree()
    {
        var packer = ContextPacker.ForChatModel(s_o200k, 300);
        var passages = Enumerable.Range(1, 6).Select(i => Passage(i, string.Join(' ', Enumerable.Repeat($"Sentence {i} about rotation.", 12)))).ToList();

        var context = packer.Pack("How often are keys rotated?", passages, reservedTokens: 120);

        Assert.Equal(180, context.TokenBudget);
        Assert.InRange(context.TokenCount, 100, 180);
        Assert.Throws<ArgumentOutOfRangeException>(() => packer.Pack("How often?", passages, reservedTokens: -1));
        Assert.Equal(s_o200k.CountTokens("Sentence 1 about rotation."), packer.CountTokens("Sentence 1 about rotation."));
    }

    [Fact]
    public void AQuestionImageIsRefusedByAChatModelsPacker()
    {
        var packer = ContextPacker.ForChatModel(s_o200k, 1000);
        var refused = Assert.Throws<ArgumentException>(() => packer.Pack("What is this?", [Passage(1, "text")], questionImages: [new PassageImage("image/png", [1, 2, 3])]));
        Assert.Contains("takes no images", refused.Message, StringComparison.Ordinal);
    }

    private static RetrievedPassage Passage(int i, string text) =>
        new([$"p{i}"], $"d{i}", $"/docs/d{i}.md", $"Title d{i}", null, null, 0, text.Length, 0, text, 1.0 / i);
}
