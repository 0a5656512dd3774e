using T5Gemma2.Rag.Encoder.Embeddings;

namespace T5Gemma2.Rag.Tests.Embeddings;

public sealed class TokenBudgetBatcherTests
{
    [Theory]
    [InlineData(1, 16_384, 256)]
    [InlineData(2, 1_000, 8)]
    [InlineData(3, 300, 1000)]
    public void EveryInputLandsInExactlyOneBatchWithinTheBudget(int seed, int budget, int maxSize)
    {
        var random = new Random(seed);
        int[] lengths = [.. Enumerable.Range(0, 2_000).Select(_ => random.Next(1, 520))];

        var batches = TokenBudgetBatcher.Plan(lengths, budget, maxSize, sortByLength: true);

        Assert.Equal(Enumerable.Range(0, lengths.Length), batches.SelectMany(b => b).Order());
        foreach (int[] batch in batches)
        {
            int padded = batch.Length * batch.Max(i => lengths[i]);
            Assert.True(batch.Length == 1 || padded <= budget, $"batch of {batch.Length} pads to {padded} > {budget}");
            Assert.True(batch.Length <= maxSize);
        }

        // Sorted longest first, so padding is small: total padded tokens stay close to the real ones.
        long real = lengths.Sum(l => (long)l);
        long paddedTotal = batches.Sum(b => (long)b.Length * b.Max(i => lengths[i]));
        Assert.True(paddedTotal < real * 1.1, $"padding overhead {paddedTotal / (double)real:F2}x");
    }

    [Fact]
    public void UnsortedPlanKeepsInputOrder()
    {
        int[] lengths = [5, 1, 9, 2, 7];

        var batches = TokenBudgetBatcher.Plan(lengths, int.MaxValue, 2, sortByLength: false);

        Assert.Equal([[0, 1], [2, 3], [4]], batches);
    }

    [Fact]
    public void AnInputLongerThanTheBudgetStillGoesAlone()
    {
        var batches = TokenBudgetBatcher.Plan([50, 3, 3], 10, 100, sortByLength: true);

        Assert.Equal([[0], [1, 2]], batches);
    }

    [Fact]
    public void EmptyInputGivesNoBatches() => Assert.Empty(TokenBudgetBatcher.Plan([], 10, 10, sortByLength: true));
}
