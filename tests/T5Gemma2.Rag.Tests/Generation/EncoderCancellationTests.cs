using System.Diagnostics;
using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Encoder.Conversion;
using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Generation;

/// <summary>
/// Cancellation stops the encoder run in progress, not only the decoding between steps: a generation cancelled a
/// quarter of the way into an 8,192-token encode of several seconds returns within a second, long before the encode
/// would have ended.
/// </summary>
public sealed class EncoderCancellationTests : IDisposable
{
    /// <summary>
    /// Many small layers (five sliding, then one full, as the released pattern): an 8k encode of seconds made of operators
    /// of a fraction of a second each, since ONNX Runtime checks for termination between operators.
    /// </summary>
    private static readonly T5Gemma2Preset s_slowEncoder = new("slow-encoder", 256, 1024, 24, 4, 1, 32, 32, 512, 16_384, [.. Enumerable.Range(0, 24).Select(i => (i + 1) % 6 == 0 ? "full_attention" : "sliding_attention")]);

    private readonly TempDirectory _temp = new();
    private readonly Seq2SeqGenerator _generator;

    public EncoderCancellationTests()
    {
        RandomCheckpoint.Create(s_slowEncoder, 7, this._temp.Combine("hf"), TestAssets.GemmaTokenizerDirectory);
        CheckpointConverter.Convert(this._temp.Combine("hf"), this._temp.Combine("onnx"));
        this._generator = Seq2SeqGenerator.Create(this._temp.Combine("onnx"));
    }

    public void Dispose()
    {
        this._generator.Dispose();
        this._temp.Dispose();
    }

    [Fact]
    public async Task CancellingDuringAn8kTokenEncodeReturnsWithinASecond()
    {
        int[] input = [2, .. Enumerable.Range(0, 8191).Select(i => 1000 + (i % 5000))];
        using var embedder = this._generator.CreateEmbeddingGenerator(new Encoder.Embeddings.OnnxEmbeddingGeneratorOptions { MaxLength = 8192 });
        string text = this._generator.Tokenizer.Decode(input.Skip(1));
        var full = Stopwatch.StartNew();
        await embedder.GenerateAsync([text], cancellationToken: TestContext.Current.CancellationToken);
        double encodeSeconds = full.Elapsed.TotalSeconds;

        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var clock = Stopwatch.StartNew();
        // The generator works on the calling thread; the test cancels from this one.
        var generation = Task.Run(() => this._generator.GenerateFromIdsAsync([input], new GenerationOptions { MaxNewTokens = 4 }, cancellation.Token), TestContext.Current.CancellationToken);
        await Task.Delay(TimeSpan.FromSeconds(encodeSeconds / 4), TestContext.Current.CancellationToken);
        double cancelledAt = clock.Elapsed.TotalSeconds;
        await cancellation.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => generation);
        double afterCancel = clock.Elapsed.TotalSeconds - cancelledAt;

        // Stopping only between runs would take the three quarters of the encode still to go.
        Assert.True(afterCancel < Math.Min(1.0, encodeSeconds / 2), $"returned {afterCancel:F2} s after the cancel; the whole encode takes {encodeSeconds:F2} s");
    }
}
