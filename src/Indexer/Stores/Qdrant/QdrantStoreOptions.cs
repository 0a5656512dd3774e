using Qdrant.Client.Grpc;

namespace T5Gemma2.Rag.Indexer.Stores.Qdrant;

/// <summary>
/// How t5rag talks to a Qdrant server and lays out the collections it creates. The defaults follow Qdrant's own
/// guidance (bulk upload: 64–256 points a request, 2–4 parallel streams; HNSW m = 16, ef_construct = 100).
/// </summary>
public sealed record QdrantStoreOptions
{
    /// <summary>Largest request <see cref="BatchMaxBytes"/> may ask for: well under the 32 MB request cap Qdrant applies by default.</summary>
    public const long MaxRequestBytes = 24L * 1024 * 1024;

    /// <summary>The server's gRPC endpoint (port 6334), http or https.</summary>
    public required Uri Endpoint { get; init; }

    /// <summary>The server's API key (sent as the api-key header); null when it has none. Over plain http it travels in clear text.</summary>
    public string? ApiKey { get; init; }

    /// <summary>TLS, from the endpoint's scheme (https, or qdrants:// in a store location).</summary>
    public bool Https => this.Endpoint.Scheme == Uri.UriSchemeHttps;

    /// <summary>Prepended to every collection name on the server, so several users or test runs can share one server; listing shows only these.</summary>
    public string CollectionPrefix { get; init; } = string.Empty;

    /// <summary>Deadline of one gRPC call.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long opening a connection may take before the attempt counts as failed (then retried).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Shards of a new collection (a cluster spreads them over its nodes).</summary>
    public int Shards { get; init; } = 1;

    /// <summary>Copies of each shard in a new collection (replication factor; a cluster places them on different nodes).</summary>
    public int Replicas { get; init; } = 1;

    /// <summary>Replicas that must acknowledge a write before it succeeds (at most <see cref="Replicas"/>).</summary>
    public int WriteConsistencyFactor { get; init; } = 1;

    /// <summary>Ordering guarantee of writes across replicas; null: the server's default (weak).</summary>
    public WriteOrderingType? WriteOrdering { get; init; }

    /// <summary>Keep the original vectors on disk (memory-mapped) rather than in RAM; pair with <see cref="ScalarQuantization"/> to search from RAM.</summary>
    public bool OnDiskVectors { get; init; }

    /// <summary>
    /// int8 scalar quantization of the dense vectors (4× less memory, quantized copies kept in RAM); searches then
    /// oversample by <see cref="QuantizationOversampling"/> and rescore with the original vectors to win back recall.
    /// </summary>
    public bool ScalarQuantization { get; init; }

    /// <summary>Candidates fetched per result with quantization before rescoring.</summary>
    public double QuantizationOversampling { get; init; } = 2.0;

    /// <summary>
    /// A passage tag whose value partitions the collection (a team, a customer, a knowledge base): copied into the
    /// <c>tenant</c> payload field, indexed with is_tenant so Qdrant keeps each tenant's points together, and used by
    /// filters on that tag. Null: no tenant field.
    /// </summary>
    public string? TenantTag { get; init; }

    /// <summary>HNSW links per node of a new collection.</summary>
    public int HnswM { get; init; } = 16;

    /// <summary>HNSW candidate list while building.</summary>
    public int HnswEfConstruct { get; init; } = 100;

    /// <summary>HNSW candidate list while searching; null: the server's default.</summary>
    public int? SearchEf { get; init; }

    /// <summary>
    /// Hybrid search also returns each hit's rank in the dense and the keyword ranking (two more rankings in the same
    /// request: roughly twice the server's search work). Off: ranks are left null.
    /// </summary>
    public bool HybridRanks { get; init; } = true;

    /// <summary>Points per upsert request at most.</summary>
    public int BatchMaxPoints { get; init; } = 256;

    /// <summary>Serialized bytes per upsert request at most.</summary>
    public long BatchMaxBytes { get; init; } = 8L * 1024 * 1024;

    /// <summary>Upsert requests in flight at once (Qdrant suggests 2–4).</summary>
    public int UploadParallelism { get; init; } = 2;

    /// <summary>Retries of a call that failed transiently (unavailable, deadline exceeded, resource exhausted, aborted).</summary>
    public int MaxRetryAttempts { get; init; } = 4;

    /// <summary>First retry's delay; each next one doubles it, with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Longest delay between retries.</summary>
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The endpoint and the layout choices, never the API key (options end up in logs and exceptions).</summary>
    public override string ToString() =>
        $"Qdrant {this.Endpoint} (api key: {(this.ApiKey is null ? "none" : "set")}, prefix '{this.CollectionPrefix}', shards {this.Shards}, replicas {this.Replicas})";

    /// <summary>Options for this endpoint with every other value at its default.</summary>
    public static QdrantStoreOptions For(Uri endpoint, string? apiKey = null) => new() { Endpoint = endpoint, ApiKey = apiKey };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first value out of range.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(this.Endpoint, nameof(this.Endpoint));
        if (!this.Endpoint.IsAbsoluteUri || (this.Endpoint.Scheme != Uri.UriSchemeHttp && this.Endpoint.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"Qdrant endpoint '{this.Endpoint}': expected an absolute http:// or https:// address of the gRPC port (6334).", nameof(this.Endpoint));
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(this.RequestTimeout, TimeSpan.Zero, nameof(this.RequestTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(this.ConnectTimeout, TimeSpan.Zero, nameof(this.ConnectTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(this.Shards, 1, nameof(this.Shards));
        ArgumentOutOfRangeException.ThrowIfLessThan(this.Replicas, 1, nameof(this.Replicas));
        ArgumentOutOfRangeException.ThrowIfLessThan(this.WriteConsistencyFactor, 1, nameof(this.WriteConsistencyFactor));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(this.WriteConsistencyFactor, this.Replicas, nameof(this.WriteConsistencyFactor));
        ArgumentOutOfRangeException.ThrowIfLessThan(this.QuantizationOversampling, 1.0, nameof(this.QuantizationOversampling));
        ArgumentOutOfRangeException.ThrowIfLessThan(this.HnswM, 2, nameof(this.HnswM));
        ArgumentOutOfRangeException.ThrowIfLessThan(this.HnswEfConstruct, 4, nameof(this.HnswEfConstruct));
        if (this.SearchEf is { } ef)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(ef, 1, nameof(this.SearchEf));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(this.BatchMaxPoints, 1, nameof(this.BatchMaxPoints));
        ArgumentOutOfRangeException.ThrowIfLessThan(this.BatchMaxBytes, 1024, nameof(this.BatchMaxBytes));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(this.BatchMaxBytes, MaxRequestBytes, nameof(this.BatchMaxBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(this.UploadParallelism, 1, nameof(this.UploadParallelism));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(this.UploadParallelism, 16, nameof(this.UploadParallelism));
        ArgumentOutOfRangeException.ThrowIfNegative(this.MaxRetryAttempts, nameof(this.MaxRetryAttempts));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(this.RetryBaseDelay, TimeSpan.Zero, nameof(this.RetryBaseDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(this.RetryMaxDelay, this.RetryBaseDelay, nameof(this.RetryMaxDelay));
        if (this.CollectionPrefix.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')))
        {
            throw new ArgumentException($"collection prefix '{this.CollectionPrefix}': expected letters, digits, '_', '-' or '.'.", nameof(this.CollectionPrefix));
        }

        if (this.TenantTag is { Length: 0 })
        {
            throw new ArgumentException("the tenant tag is empty; expected a tag name or null.", nameof(this.TenantTag));
        }
    }
}
