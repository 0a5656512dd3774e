using Microsoft.ML.OnnxRuntime;

namespace T5Gemma2.Rag.Encoder.Generation;

/// <summary>
/// Keeps a generator's sessions alive while they run: every call that runs them goes through <see cref="Run"/>, which
/// counts it as in flight until it ends and stops it on the caller's cancellation or on <see cref="Close"/>; Close
/// stops the calls in flight and waits for them before the sessions are released. Releasing a session under a
/// running step crashed the process (SIGSEGV).
/// </summary>
internal sealed class GenerationLifetime(object owner)
{
    private readonly CancellationTokenSource _closing = new();
    private readonly object _gate = new(); // an object, not a Lock: Close waits on it with Monitor.Wait
    private int _inFlight;
    private volatile bool _closed;

    /// <exception cref="ObjectDisposedException">Naming the owner, once <see cref="Close"/> has begun.</exception>
    public void ThrowIfClosed() => ObjectDisposedException.ThrowIf(this._closed, owner);

    /// <summary>
    /// Runs <paramref name="work"/> with run options that either cancellation terminates: ONNX Runtime checks Terminate
    /// between operators, so an 8k-token encode or the cross cache stops within an operator, not only between decoder steps.
    /// </summary>
    public T Run<T>(CancellationToken cancellationToken, Func<RunOptions, CancellationToken, T> work)
    {
        lock (this._gate)
        {
            ObjectDisposedException.ThrowIf(this._closed, owner);
            this._inFlight++;
        }

        try
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, this._closing.Token);
            using var runOptions = new RunOptions();
            using var registration = stop.Token.Register(static state => ((RunOptions)state!).Terminate = true, runOptions);
            try
            {
                return work(runOptions, stop.Token);
            }
            catch (Exception ex) when ((ex is OnnxRuntimeException or OperationCanceledException) && stop.IsCancellationRequested)
            {
                // A terminated run fails inside ONNX Runtime: it is reported as the cancellation or the disposal it was.
                ObjectDisposedException.ThrowIf(!cancellationToken.IsCancellationRequested, owner);
                throw new OperationCanceledException(cancellationToken);
            }
        }
        finally
        {
            lock (this._gate)
            {
                if (--this._inFlight == 0)
                {
                    Monitor.PulseAll(this._gate);
                }
            }
        }
    }

    /// <summary>
    /// Refuses new calls, stops those in flight (they end with <see cref="ObjectDisposedException"/>), waits for them,
    /// then runs <paramref name="release"/>; a second Close does nothing.
    /// </summary>
    public void Close(Action release)
    {
        lock (this._gate)
        {
            if (this._closed)
            {
                return;
            }

            this._closed = true;
        }

        // Runs stop within an operator (RunOptions.Terminate) and the decoding loops at their next step.
        this._closing.Cancel();
        lock (this._gate)
        {
            while (this._inFlight > 0)
            {
                Monitor.Wait(this._gate);
            }
        }

        release();
        this._closing.Dispose();
    }
}
