namespace T5Gemma2.Rag.Indexer.Stores;

/// <summary>A store that cannot be used as asked (read-only directory, newer schema, wrong model): one line saying what was expected.</summary>
public sealed class StoreException : T5RagException
{
    public StoreException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    /// <summary>
    /// The store's server could not be reached, did not answer in time, or refused access: the same request may
    /// succeed later (or with the right key). False when the store refused the request itself (a collection gone or
    /// of another layout), which no retry mends.
    /// </summary>
    public bool ServiceUnavailable { get; init; }

    public override FailureKind Kind => this.ServiceUnavailable ? FailureKind.StoreUnavailable : FailureKind.StoreUnusable;
}
