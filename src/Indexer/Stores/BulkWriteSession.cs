namespace T5Gemma2.Rag.Indexer.Stores;

/// <summary>
/// A run of many writes begun with <see cref="IPassageCollection.BeginBulkWriteAsync"/>, in whatever way the store
/// prepares for one (the embedded store loads a large collection's HNSW graph first; Qdrant defers indexing of an
/// empty collection to the end). <see cref="EndAsync"/> ends it when the run finished; <see cref="DisposeAsync"/> ends
/// it whatever happened, so a failed or cancelled run leaves the collection as usable as a finished one.
/// </summary>
public sealed class BulkWriteSession : IAsyncDisposable
{
    private readonly Func<CancellationToken, Task>? _end;
    private bool _ended;

    /// <param name="end">What ends the session (null: nothing to do).</param>
    /// <param name="notice">What the store found and did on beginning that the user should hear of (null: nothing).</param>
    public BulkWriteSession(Func<CancellationToken, Task>? end = null, string? notice = null)
    {
        this._end = end;
        this.Notice = notice;
    }

    /// <summary>A session with nothing to end and nothing to say.</summary>
    public static BulkWriteSession None { get; } = new();

    /// <summary>One line for the user, e.g. that indexing left off by an interrupted run was turned back on; null when there is nothing to say.</summary>
    public string? Notice { get; }

    /// <summary>Ends the session (for Qdrant: indexing back on; the server then indexes in the background, searches working meanwhile). Not thread-safe.</summary>
    public async Task EndAsync(CancellationToken cancellationToken = default)
    {
        if (!this._ended && this._end is not null)
        {
            // Marked only once done: an attempt that failed or was cancelled is tried again by DisposeAsync.
            await this._end(cancellationToken).ConfigureAwait(false);
            this._ended = true;
        }
    }

    /// <summary>Ends the session even when the run failed or was cancelled, so the collection is never left half-prepared.</summary>
    public async ValueTask DisposeAsync() => await this.EndAsync(CancellationToken.None).ConfigureAwait(false);
}
