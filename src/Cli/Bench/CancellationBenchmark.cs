using System.Diagnostics;
using System.Globalization;
using T5Gemma2.Rag.Cli.Console;
using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Encoder.Onnx;

namespace T5Gemma2.Rag.Cli.Bench;

/// <summary>
/// Many generations cancelled mid-stream, and the process's private memory before and after: a leak of ONNX Runtime
/// values would grow it run by run. Measured in a process of its own, since memory is process-wide.
/// </summary>
internal static class CancellationBenchmark
{
    public static async Task<int> RunAsync(CliConsole console, string modelPath, int warmup, int runs, OnnxSessionOptions session, CancellationToken cancellationToken)
    {
        await BenchEnvironment.WriteAsync(console, BenchEnvironment.IntraOp(session.IntraOpThreads));
        using var generator = Seq2SeqGenerator.Create(modelPath, session);
        for (int i = 0; i < warmup; i++)
        {
            await CancelOnceAsync(generator, cancellationToken);
        }

        // The native allocator's arenas and ONNX Runtime's pools settle during the warm-up; a leak keeps growing after it.
        long before = PrivateMemory();
        for (int i = 0; i < runs; i++)
        {
            await CancelOnceAsync(generator, cancellationToken);
        }

        double growth = (PrivateMemory() - before) / 1048576.0;
        await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"private memory growth: {growth:F1} MiB over {runs} cancelled streams after {warmup} to warm up"));
        return ExitCodes.Success;
    }

    private static async Task CancelOnceAsync(Seq2SeqGenerator generator, CancellationToken cancellationToken)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        int seen = 0;
        try
        {
            await foreach (string _ in generator.GenerateStreamingAsync("The encoder reads this; the decoder answers.", new GenerationOptions { MaxNewTokens = 200, MinNewTokens = 200 }, cancellation.Token))
            {
                if (++seen == 3)
                {
                    await cancellation.CancelAsync();
                }
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // The point of the run.
        }
    }

    private static long PrivateMemory()
    {
        // Compacting the large object heap too: each generation's 1 MiB logits buffer lives there, and its
        // fragmentation alone moved the figure by tens of MiB either way, more than a leaked tensor per step.
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        return process.PrivateMemorySize64;
    }
}
