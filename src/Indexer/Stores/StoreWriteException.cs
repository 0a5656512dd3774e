namespace T5Gemma2.Rag.Indexer.Stores;

/// <summary>Why a write to a store did not happen.</summary>
public enum StoreWriteFault
{
    /// <summary>The store's disk (or filesystem) is full.</summary>
    DiskFull,

    /// <summary>Another process held the store's write lock for longer than the write waits.</summary>
    Busy,
}

/// <summary>
/// A write to the store was refused as a whole (its transaction rolled back, nothing half-written): the disk is full or
/// another writer held the lock too long. What was written before stays; the same run can be repeated once the cause is gone.
/// </summary>
/// <remarks>
/// Was an <see cref="IOException"/>; no caller caught it as one: the catches of IOException in the project surround file
/// reads, HNSW graph files and directory cleanup, none of them around a store write, so it joined the family.
/// </remarks>
public sealed class StoreWriteException : T5RagException
{
    public StoreWriteException(StoreWriteFault fault, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        this.Fault = fault;
    }

    /// <summary>What stopped the write.</summary>
    public StoreWriteFault Fault { get; }

    public override FailureKind Kind => FailureKind.StoreWriteFailed;
}
