namespace T5Gemma2.Rag.Server.Jobs;

/// <summary>
/// In-process news of the jobs: the worker pulses <see cref="JobChanged"/> when a job moves (started, progress,
/// finished), an upload pulses <see cref="JobQueued"/>. Waiters take the pulse's task <em>before</em> they read the
/// database, so a change between the read and the wait is not missed; readers in another process (a replica over the
/// same service database) see no pulses and poll instead.
/// </summary>
public sealed class IngestJobEvents
{
    private TaskCompletionSource _changed = NewPulse();
    private TaskCompletionSource _queued = NewPulse();

    /// <summary>Completes at the next change of any job.</summary>
    public Task NextChange => Volatile.Read(ref this._changed).Task;

    /// <summary>Completes when the next job is queued.</summary>
    public Task NextQueued => Volatile.Read(ref this._queued).Task;

    /// <summary>A job started, moved on or finished.</summary>
    public void JobChanged() => Interlocked.Exchange(ref this._changed, NewPulse()).TrySetResult();

    /// <summary>A job was queued.</summary>
    public void JobQueued()
    {
        Interlocked.Exchange(ref this._queued, NewPulse()).TrySetResult();
        this.JobChanged();
    }

    private static TaskCompletionSource NewPulse() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
