using Microsoft.Extensions.VectorData;

namespace T5Gemma2.Rag.Indexer.VectorData;

/// <summary>
/// How the connector reports a store that failed: as the <see cref="VectorStoreException"/> MEVD callers catch, with the
/// store's names, the collection and the operation. One rule for the store and its collections.
/// </summary>
internal static class VectorStoreFailures
{
    /// <summary>
    /// Whether an exception is the store's failure rather than the caller's: our store exceptions and what a store's
    /// client throws itself (SQLite, gRPC, a collection closed by a delete elsewhere). Bad arguments, what the stores
    /// cannot do, MEVD's own model errors and cancellation pass through as they are.
    /// </summary>
    public static bool IsStoreFailure(Exception ex) =>
        ex is T5RagException or ObjectDisposedException
        || ex is not (ArgumentException or NotSupportedException or OperationCanceledException or VectorStoreException or InvalidOperationException);

    /// <summary>The exception for <paramref name="message"/> (a store exception's own line as it is; a client's with the operation and place before it).</summary>
    public static VectorStoreException Create(VectorStoreMetadata store, string? collection, string operation, string message, Exception? inner = null) => new(message, inner)
    {
        VectorStoreSystemName = store.VectorStoreSystemName,
        VectorStoreName = store.VectorStoreName,
        CollectionName = collection,
        OperationName = operation,
    };

    /// <summary>The exception for a store failure caught during <paramref name="operation"/>.</summary>
    public static VectorStoreException From(Exception ex, VectorStoreMetadata store, string? collection, string operation) =>
        Create(store, collection, operation, ex is T5RagException
            ? ex.Message
            : $"{operation}{(collection is null ? string.Empty : $" on collection '{collection}'")} in {store.VectorStoreName} failed: {ex.Message}", ex);
}
