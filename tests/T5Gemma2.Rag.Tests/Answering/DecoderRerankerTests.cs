using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Retrieval;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Answering;

/// <summary>The decoder as a scorer and reranker, on the tiny random T5Gemma 2.</summary>
public sealed class DecoderRerankerTests(SharedTinyT5Gemma2 tiny)
{
    [Fact]
    public async Task LogLikelihoodAgreesWithGreedyDecoding()
    {
        using var generator = Seq2SeqGenerator.Create(tiny.ConvertedDirectory);
        int[] input = [.. generator.Tokenizer.EncodeToIds("ships left the harbour at dawn", addBeginningOfSentence: true, addEndOfSentence: false)];
        var greedy = (await generator.GenerateFromIdsAsync([input], new GenerationOptions { MaxNewTokens = 2, MinNewTokens = 2 }, TestContext.Current.CancellationToken))[0].TokenIds;

        double best = await generator.LogLikelihoodAsync(input, [greedy[0]], TestContext.Current.CancellationToken);
        double pair = await generator.LogLikelihoodAsync(input, [greedy[0], greedy[1]], TestContext.Current.CancellationToken);
        Assert.True(best < 0 && pair < best, $"log-probabilities are negative and add up ({best}, {pair})");
        foreach (int other in (int[])[5, 1000, 70000, 262143])
        {
            // Greedy picked the most likely token at each step, so nothing else can score higher.
            Assert.True(best >= await generator.LogLikelihoodAsync(input, [other], TestContext.Current.CancellationToken));
            Assert.True(pair >= await generator.LogLikelihoodAsync(input, [greedy[0], other], TestContext.Current.CancellationToken));
        }
    }

    [Fact]
    public async Task RerankingOrdersPassagesByTheDecodersMeanLogLikelihoodOfTheQuestion()
    {
        using var generator = Seq2SeqGenerator.Create(tiny.ConvertedDirectory);
        var passages = Enumerable.Range(0, 5)
            .Select(i => new RetrievedPassage([$"p{i}"], $"d{i}", $"/kb/{i}.md", null, null, null, 0, 10, 0, $"Passage {i} about harbours, ships number {i * 7} and tides.", 1.0 - (i * 0.1)))
            .ToList();
        const string question = "Which ships left the harbour?";

        var reranked = await new DecoderReranker(generator).RerankAsync(question, passages, TestContext.Current.CancellationToken);

        Assert.Equal(passages.Select(p => p.DocumentId).Order(), reranked.Select(p => p.DocumentId).Order());
        Assert.Equal(reranked.Select(p => p.Score).OrderDescending(), reranked.Select(p => p.Score));
        int[] target = [.. generator.Tokenizer.EncodeToIdsAsPlainText(question)];
        var first = reranked[0];
        int[] input = [generator.Tokenizer.BeginningOfSentenceId!.Value, .. generator.Tokenizer.EncodeToIdsAsPlainText(first.Text)];
        Assert.Equal(await generator.LogLikelihoodAsync(input, target, TestContext.Current.CancellationToken) / target.Length, first.Score, 6);
    }
}
