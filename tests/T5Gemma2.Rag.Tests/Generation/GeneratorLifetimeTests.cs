using System.Diagnostics;
using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Generation;

/// <summary>
/// Disposing a generator while it generates: Dispose stops the work in flight and returns only when it has ended,
/// so no ONNX Runtime session is released under a running step; the callers get ObjectDisposedException.
/// </summary>
public sealed class GeneratorLifetimeTests(SharedTinyT5Gemma2 tiny)
{
    private static readonly GenerationOptions s_long = new() { MaxNewTokens = 2_000, MinNewTokens = 2_000 };

    [Fact]
    public async Task DisposeDuringAStreamStopsItsWorkerAndWaitsForIt()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var generator = Seq2SeqGenerator.Create(tiny.ConvertedDirectory);
        var stream = generator.GenerateStreamingAsync("The encoder reads this; the decoder answers.", s_long, cancellationToken).GetAsyncEnumerator(cancellationToken);
        try
        {
            Assert.True(await stream.MoveNextAsync());

            var clock = Stopwatch.StartNew();
            await Task.Run(generator.Dispose, cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
            TestContext.Current.SendDiagnosticMessage($"Dispose returned after {clock.ElapsedMilliseconds} ms");

            int after = 0;
            var failure = await Record.ExceptionAsync(async () =>
            {
                while (await stream.MoveNextAsync())
                {
                    after++;
                }
            });
            Assert.IsType<ObjectDisposedException>(failure);
            Assert.True(after < s_long.MaxNewTokens - 1, $"the stream went on for {after} deltas after Dispose");
        }
        finally
        {
            await stream.DisposeAsync();
        }
    }

    [Fact]
    public async Task DisposeDuringAGenerationOnAnotherThreadWaitsForIt()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var generator = Seq2SeqGenerator.Create(tiny.ConvertedDirectory);
        using var started = new SemaphoreSlim(0);
        var generation = Task.Run(
            async () =>
            {
                started.Release();
                return await generator.GenerateAsync("The encoder reads this; the decoder answers.", s_long, cancellationToken);
            },
            cancellationToken);
        await started.WaitAsync(cancellationToken);
        await Task.Delay(200, cancellationToken); // inside the decoding loop

        await Task.Run(generator.Dispose, cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);

        // When Dispose has returned, the generation has ended: it completes at once.
        Assert.True(generation.IsCompleted, "the generation was still running when Dispose returned");
        await Assert.ThrowsAsync<ObjectDisposedException>(() => generation);
    }

    [Fact]
    public async Task AfterDisposeEveryEntryRefuses()
    {
        var generator = Seq2SeqGenerator.Create(tiny.ConvertedDirectory);
        generator.Dispose();
        generator.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => generator.GenerateAsync("x", cancellationToken: TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => generator.LogLikelihoodAsync([2, 10], [11], TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () =>
        {
            await foreach (string _ in generator.GenerateStreamingAsync("x", cancellationToken: TestContext.Current.CancellationToken))
            {
            }
        });
    }
}
