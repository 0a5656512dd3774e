using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Tests.Conversion;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Generation;

/// <summary>
/// The converted decoder graphs against the double-precision reference on the tiny preset: logits with decoder
/// lengths past the sliding window (4), and greedy decoding with the cache, without it, and by the reference, token
/// for token for 32 steps, also for a padded batch of inputs of different lengths.
/// </summary>
public sealed class DecoderParityTests(SharedTinyT5Gemma2 tiny) : IDisposable
{
    private static readonly long[] s_input = [2, 651, 9259, 1902, 236764, 256000, 107, 3721, 88];

    private readonly Seq2SeqGenerator _sut = Seq2SeqGenerator.Create(tiny.ConvertedDirectory);

    public void Dispose() => this._sut.Dispose();

    [Fact]
    public void StepLogitsMatchTheReference()
    {
        int[] decoderIds = [2, 10, 20, 256000, 40, 50, 60, 70]; // longer than the window, with <end_of_image>
        float[] logits = this._sut.Logits([.. s_input.Select(i => (int)i)], decoderIds, TestContext.Current.CancellationToken);
        using var weights = SafeTensorsCheckpoint.Open(tiny.CheckpointDirectory);
        var reference = new ReferenceEncoder(tiny.CheckpointDirectory, weights);
        int vocabulary = logits.Length / decoderIds.Length;

        double worst = 0;
        foreach (int t in new[] { 0, 3, 7 })
        {
            double[] expected = reference.DecoderLastLogits(s_input, [.. s_input.Select(_ => 1L)], decoderIds[..(t + 1)]);
            for (int v = 0; v < vocabulary; v++)
            {
                worst = Math.Max(worst, Math.Abs(expected[v] - logits[t * vocabulary + v]));
            }
        }

        Assert.True(worst <= 1e-4, $"max abs logit difference {worst:E2}");
    }

    [Fact]
    public async Task GreedyWithCacheEqualsWithoutCacheEqualsTheReference()
    {
        const int Steps = 32;
        string text = this._sut.Tokenizer.Decode(s_input.Skip(1).Select(i => (int)i));
        var options = new GenerationOptions { MaxNewTokens = Steps };

        var cached = await this._sut.GenerateAsync(text, options, TestContext.Current.CancellationToken);
        var uncached = await this._sut.GenerateAsync(text, new GenerationOptions { MaxNewTokens = Steps, UseCache = false }, TestContext.Current.CancellationToken);

        using var weights = SafeTensorsCheckpoint.Open(tiny.CheckpointDirectory);
        var reference = new ReferenceEncoder(tiny.CheckpointDirectory, weights);
        // A generator's input is untrusted text: special-token strings in it are text pieces, and so for the reference.
        long[] input = [.. this._sut.Tokenizer.EncodeToIdsAsPlainText(text, addBeginningOfSentence: true).Select(i => (long)i)];
        var expected = new List<int>();
        var decoderIds = new List<int> { 2 };
        for (int step = 0; step < cached.TokenIds.Count; step++)
        {
            double[] logits = reference.DecoderLastLogits(input, [.. input.Select(_ => 1L)], decoderIds);
            int next = Array.IndexOf(logits, logits.Max());
            expected.Add(next);
            decoderIds.Add(next);
        }

        Assert.True(cached.TokenIds.Count >= Steps || cached.FinishReason == FinishReason.EndOfSequence);
        Assert.Equal(uncached.TokenIds, cached.TokenIds);
        Assert.Equal(expected, cached.TokenIds);
    }

    [Fact]
    public async Task AnswersLongerThanTheCachesFirstSlotsStayEqualToDecodingWithoutTheCache()
    {
        // The cache starts with 64 self slots and doubles: 150 tokens grow it twice, in a padded batch.
        string[] inputs = ["a short one", "a considerably longer input, so that the first one is padded"];
        var cached = await this._sut.GenerateAsync(inputs, new GenerationOptions { MaxNewTokens = 150, MinNewTokens = 150 }, TestContext.Current.CancellationToken);
        var uncached = await this._sut.GenerateAsync(inputs, new GenerationOptions { MaxNewTokens = 150, MinNewTokens = 150, UseCache = false }, TestContext.Current.CancellationToken);

        Assert.All(cached, answer => Assert.Equal(150, answer.TokenIds.Count));
        Assert.Equal(uncached[0].TokenIds, cached[0].TokenIds);
        Assert.Equal(uncached[1].TokenIds, cached[1].TokenIds);
    }

    [Fact]
    public async Task PaddedBatchGivesEachInputItsOwnAnswer()
    {
        string[] inputs = ["a short one", "a considerably longer input, so that the first one is padded in the encoder batch"];
        var options = new GenerationOptions { MaxNewTokens = 12 };

        var batch = await this._sut.GenerateAsync(inputs, options, TestContext.Current.CancellationToken);
        var first = await this._sut.GenerateAsync(inputs[0], options, TestContext.Current.CancellationToken);
        var second = await this._sut.GenerateAsync(inputs[1], options, TestContext.Current.CancellationToken);

        Assert.Equal(first.TokenIds, batch[0].TokenIds);
        Assert.Equal(second.TokenIds, batch[1].TokenIds);
        Assert.NotEqual(first.TokenIds, second.TokenIds);
    }
}
