using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace T5Gemma2.Rag.Indexer.Stores.Qdrant;

/// <summary>Source-generated log messages of the Qdrant store (event ids 3000–3099).</summary>
internal static partial class QdrantStoreLog
{
    [LoggerMessage(3000, LogLevel.Warning, "Qdrant {Operation} at {Endpoint} failed with {Status} ({Detail}); retry {Attempt} of {MaxAttempts} in {DelayMs:F0} ms")]
    public static partial void Retrying(this ILogger logger, string operation, Uri endpoint, StatusCode status, string detail, int attempt, int maxAttempts, double delayMs);

    [LoggerMessage(3001, LogLevel.Information, "Created Qdrant collection {Collection} at {Endpoint}: {Dimensions} dimensions, {Shards} shards, {Replicas} replicas, on-disk vectors {OnDisk}, int8 quantization {Quantized}")]
    public static partial void CollectionCreated(this ILogger logger, string collection, Uri endpoint, int dimensions, int shards, int replicas, bool onDisk, bool quantized);

    [LoggerMessage(3002, LogLevel.Information, "Qdrant collection {Collection}: HNSW indexing {State} (m = {M})")]
    public static partial void BulkLoad(this ILogger logger, string collection, string state, int m);

    [LoggerMessage(3003, LogLevel.Debug, "Qdrant collection {Collection}: wrote {Passages} passages of {Documents} documents in {Requests} requests")]
    public static partial void Upserted(this ILogger logger, string collection, int passages, int documents, int requests);
}
