namespace T5Gemma2.Rag.Indexer.Stores.Qdrant;

/// <summary>
/// A bulk load in progress (<see cref="QdrantPassageCollection.BeginBulkLoadAsync"/>): HNSW building is off until
/// this is disposed, which turns it back on with the collection's m so the server builds the graph once, over all the
/// points, instead of growing it with every batch.
/// </summary>
public sealed class QdrantBulkLoad : IAsyncDisposable
{
    private readonly Func<CancellationToken, Task> _end;
    private bool _ended;

    internal QdrantBulkLoad(Func<CancellationToken, Task> end)
    {
        this._end = end;
    }

    /// <summary>Turns HNSW building back on; the server then indexes in the background (searches work meanwhile). Not thread-safe.</summary>
    public async Task EndAsync(CancellationToken cancellationToken = default)
    {
        if (!this._ended)
        {
            // Marked only once done: an attempt that failed or was cancelled is tried again by DisposeAsync.
            await this._end(cancellationToken).ConfigureAwait(false);
            this._ended = true;
        }
    }

    /// <summary>Ends the bulk load even when the run failed or was cancelled, so the collection never stays unindexed.</summary>
    public async ValueTask DisposeAsync() => await this.EndAsync(CancellationToken.None).ConfigureAwait(false);
}
