using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace T5Gemma2.Rag.Encoder.Generation;

/// <summary>
/// Runs a decoding on a worker and hands its text deltas to the reader as the tokens are chosen, then its result. A
/// reader that stops early stops the worker too, and the stream ends only once the worker has.
/// </summary>
internal static class DeltaStream
{
    /// <param name="decode">Decodes, passing each delta to its first argument, until done or its token is cancelled; returns the result.</param>
    public static async IAsyncEnumerable<GenerationUpdate> Run(Func<Action<string>, CancellationToken, GenerationResult> decode, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var channel = Channel.CreateUnbounded<GenerationUpdate>(new() { SingleReader = true, SingleWriter = true });
        var worker = Task.Run(
            () =>
            {
                try
                {
                    var result = decode(delta => channel.Writer.TryWrite(new GenerationUpdate(Delta: delta)), stop.Token);
                    channel.Writer.TryWrite(new GenerationUpdate(Result: result));
                    channel.Writer.TryComplete();
                }
                catch (Exception ex)
                {
                    channel.Writer.TryComplete(ex);
                }
            },
            CancellationToken.None);

        try
        {
            await foreach (var update in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return update;
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await worker.ConfigureAwait(false); // never throws: the worker hands its failures to the channel
        }
    }
}
