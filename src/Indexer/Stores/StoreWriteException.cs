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
public sealed class StoreWriteException : IOException
{
    public StoreWriteException(StoreWriteFault fault, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        this.Fault = fault;
    }

    /// <summary>What stopped the write.</summary>
    public StoreWriteFault Fault { get; }
}
