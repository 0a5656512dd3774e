namespace T5Gemma2.Rag.Encoder.Hub;

/// <summary>
/// Reports on the caller's thread, in order. <see cref="Progress{T}"/> posts to a synchronization context or the
/// thread pool, so byte counts could arrive late and out of order.
/// </summary>
internal sealed class ImmediateProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
