using System.Globalization;
using System.Text.RegularExpressions;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Qdrant.Client;
using Qdrant.Client.Grpc;
using QdrantCollectionInfo = Qdrant.Client.Grpc.CollectionInfo;

using T5Gemma2.Rag.Indexer.Stores.Fields;

namespace T5Gemma2.Rag.Indexer.Stores.Qdrant;

/// <summary>
/// Passage collections on a Qdrant server (gRPC), one Qdrant collection per t5rag collection (layout:
/// <see cref="QdrantSchema"/>). Dense search runs on the server's HNSW index, keyword search on a BM25 sparse vector
/// (<see cref="Bm25SparseEncoder"/>, IDF applied by the server), hybrid search fuses both rankings here with the same
/// <see cref="HybridFusion"/> as the embedded store, so both stores rank alike and report each hit's ranks.
/// </summary>
public sealed partial class QdrantPassageStore : IPassageStore
{
    private readonly GrpcChannel _channel;
    private readonly QdrantClient _client;

    private QdrantPassageStore(QdrantStoreOptions options, GrpcChannel channel, QdrantClient client, ILoggerFactory loggerFactory)
    {
        this.Options = options;
        this._channel = channel;
        this._client = client;
        this.Logger = loggerFactory.CreateLogger<QdrantPassageStore>();
        this.Retry = new QdrantRetryPolicy(options.Endpoint, options, this.Logger);
    }

    public QdrantStoreOptions Options { get; }

    /// <summary>The server's gRPC endpoint.</summary>
    public Uri Endpoint => this.Options.Endpoint;

    /// <summary>The store as <c>--store</c> names it (qdrant://host:port), without the API key.</summary>
    public string Location => QdrantStoreLocation.Format(this.Endpoint);

    /// <summary>How passages' words become sparse vectors (fastembed's Qdrant/bm25).</summary>
    public Bm25SparseEncoder Bm25 { get; } = Bm25SparseEncoder.Default;

    internal QdrantClient Client => this._client;

    internal QdrantRetryPolicy Retry { get; }

    internal ILogger Logger { get; }

    /// <summary>
    /// A store on the server <paramref name="options"/> names. Nothing is sent yet: an unreachable server shows at the
    /// first call, as a <see cref="StoreException"/> saying so, after the retries.
    /// </summary>
    public static QdrantPassageStore Connect(QdrantStoreOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        loggerFactory ??= NullLoggerFactory.Instance;

        // Our own channel rather than QdrantClient(host, …): a connect timeout (an unreachable host fails fast and is
        // retried), several HTTP/2 connections for parallel uploads, keep-alive pings, and room for large replies.
        var channel = GrpcChannel.ForAddress(options.Endpoint, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                ConnectTimeout = options.ConnectTimeout,
                EnableMultipleHttp2Connections = true,
                KeepAlivePingDelay = TimeSpan.FromSeconds(60),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(30),
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            },
            DisposeHttpClient = true,
            MaxReceiveMessageSize = 64 * 1024 * 1024,
            MaxSendMessageSize = null,
            LoggerFactory = loggerFactory,
        });
        CallInvoker invoker = channel.CreateCallInvoker();
        if (options.ApiKey is { } apiKey)
        {
            invoker = invoker.Intercept(metadata =>
            {
                metadata.Add("api-key", apiKey);
                return metadata;
            });
        }

        var client = new QdrantClient(new QdrantGrpcClient(invoker), options.RequestTimeout, loggerFactory);
        return new QdrantPassageStore(options, channel, client, loggerFactory);
    }

    /// <summary>The server's version; a <see cref="StoreException"/> when it cannot be reached or refuses the key.</summary>
    public async Task<string> CheckHealthAsync(CancellationToken cancellationToken = default)
    {
        var reply = await this.Retry.ExecuteAsync("health check", token => this._client.HealthAsync(token), cancellationToken).ConfigureAwait(false);
        return reply.Version;
    }

    /// <inheritdoc />
    /// <remarks>Only the server's collections under <see cref="QdrantStoreOptions.CollectionPrefix"/> that t5rag made (they carry its metadata).</remarks>
    public async Task<IReadOnlyList<string>> ListCollectionsAsync(CancellationToken cancellationToken = default)
    {
        var all = await this.Retry.ExecuteAsync("list collections", token => this._client.ListCollectionsAsync(token), cancellationToken).ConfigureAwait(false);
        var names = new List<string>();
        foreach (string physical in all.Where(n => n.StartsWith(this.Options.CollectionPrefix, StringComparison.Ordinal)))
        {
            string name = physical[this.Options.CollectionPrefix.Length..];
            if (ValidName().IsMatch(name) && await this.ReadInfoAsync(physical, cancellationToken, knownToExist: true).ConfigureAwait(false) is { } info && info.Config.Metadata.ContainsKey(QdrantSchema.MetaSchema))
            {
                names.Add(name);
            }
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// <inheritdoc />
    public async Task<IPassageCollection?> OpenCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        string physical = this.PhysicalName(name);
        var info = await this.ReadInfoAsync(physical, cancellationToken).ConfigureAwait(false);
        return info is null ? null : await this.OpenAsync(name, physical, info, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>
    /// A new collection gets the named dense vector (cosine; on disk and int8-quantized when the options say so), the
    /// BM25 sparse vector with the IDF modifier, the shards, replicas and write consistency of the options, and its
    /// payload indexes before any point arrives (indexes made later would have to be built over every point).
    /// </remarks>
    public async Task<IPassageCollection> OpenOrCreateCollectionAsync(string name, CollectionSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Dimensions, 1, "settings.Dimensions");
        string physical = this.PhysicalName(name);
        var info = await this.ReadInfoAsync(physical, cancellationToken).ConfigureAwait(false);
        if (info is null)
        {
            await this.CreateAsync(physical, settings, cancellationToken).ConfigureAwait(false);
            info = await this.ReadInfoAsync(physical, cancellationToken).ConfigureAwait(false)
                ?? throw new StoreException($"Qdrant at {this.Endpoint}: collection '{physical}' vanished right after it was created.");
        }

        var collection = await this.OpenAsync(name, physical, info, cancellationToken).ConfigureAwait(false);
        if (collection.Settings.IsCompatibleWith(settings))
        {
            // The caller's record schema when it gives one: fields it marks indexed since creation get their index too.
            await this.EnsurePayloadIndexesAsync(physical, info, settings.Record ?? collection.Settings.Record, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            collection.Dispose();
            throw new ModelMismatchException(name, collection.Settings, settings);
        }

        return collection;
    }

    /// <inheritdoc />
    public async Task<bool> DeleteCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        string physical = this.PhysicalName(name);
        if (!await this.ExistsAsync(physical, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        await this.Retry.ExecuteAsync($"delete collection {physical}", token => this._client.DeleteCollectionAsync(physical, this.Options.RequestTimeout, token), cancellationToken).ConfigureAwait(false);
        return true;
    }

    public void Dispose()
    {
        this._client.Dispose();
        this._channel.Dispose();
    }

    internal Task<bool> ExistsAsync(string physical, CancellationToken cancellationToken) =>
        this.Retry.ExecuteAsync($"look up collection {physical}", token => this._client.CollectionExistsAsync(physical, token), cancellationToken);

    /// <summary>The collection's description, or null when there is none of that name.</summary>
    internal async Task<QdrantCollectionInfo?> ReadInfoAsync(string physical, CancellationToken cancellationToken, bool knownToExist = false)
    {
        if (!knownToExist && !await this.ExistsAsync(physical, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        try
        {
            return await this.Retry.ExecuteAsync($"describe collection {physical}", token => this._client.GetCollectionInfoAsync(physical, token), cancellationToken).ConfigureAwait(false);
        }
        catch (StoreException ex) when (ex.InnerException is RpcException { StatusCode: StatusCode.NotFound })
        {
            return null;
        }
    }

    private Task<QdrantPassageCollection> OpenAsync(string name, string physical, QdrantCollectionInfo info, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var metadata = info.Config.Metadata;
        if (!metadata.TryGetValue(QdrantSchema.MetaSchema, out var schema))
        {
            throw new StoreException($"Qdrant collection '{physical}' at {this.Endpoint} was not made by t5rag (it has no t5rag metadata); use another collection name.");
        }

        if (schema.IntegerValue > QdrantSchema.Version)
        {
            throw new StoreException($"Qdrant collection '{physical}' at {this.Endpoint} has t5rag layout version {schema.IntegerValue}, newer than this t5rag reads ({QdrantSchema.Version}); upgrade t5rag.");
        }

        if (!metadata.TryGetValue(QdrantSchema.MetaModel, out var model) || !metadata.TryGetValue(QdrantSchema.MetaDimensions, out var dimensions) || dimensions.IntegerValue < 1)
        {
            throw new StoreException($"Qdrant collection '{physical}' at {this.Endpoint}: its metadata lacks a valid model id or dimension count; expected a collection created by t5rag.");
        }

        var createdAt = metadata.TryGetValue(QdrantSchema.MetaCreatedAt, out var created) ? DateTimeOffset.FromUnixTimeMilliseconds(created.IntegerValue) : DateTimeOffset.UnixEpoch;
        string? Prompt(string key) => metadata.TryGetValue(key, out var value) ? value.StringValue : null;
        var settings = new CollectionSettings(checked((int)dimensions.IntegerValue), model.StringValue, Prompt(QdrantSchema.MetaQueryPrompt), Prompt(QdrantSchema.MetaPassagePrompt))
        {
            Record = Prompt(QdrantSchema.MetaRecordSchema) is { } record ? RecordSchema.Parse(record, $"Qdrant collection '{physical}' at {this.Endpoint}") : null,
        };
        return Task.FromResult(new QdrantPassageCollection(this, name, physical, settings, createdAt));
    }

    private async Task CreateAsync(string physical, CollectionSettings settings, CancellationToken cancellationToken)
    {
        var options = this.Options;
#pragma warning disable CS0612 // on_disk / always_ram: what servers before 1.20 understand (their replacement, memory, is newer)
        var create = new CreateCollection
        {
            CollectionName = physical,
            VectorsConfig = new VectorsConfig
            {
                ParamsMap = new VectorParamsMap
                {
                    Map =
                    {
                        [QdrantSchema.DenseVector] = new VectorParams { Size = (ulong)settings.Dimensions, Distance = Distance.Cosine, OnDisk = options.OnDiskVectors },
                    },
                },
            },
            SparseVectorsConfig = new SparseVectorConfig
            {
                Map = { [QdrantSchema.SparseVector] = new SparseVectorParams { Modifier = Modifier.Idf } },
            },
            ShardNumber = (uint)options.Shards,
            ReplicationFactor = (uint)options.Replicas,
            WriteConsistencyFactor = (uint)options.WriteConsistencyFactor,
            HnswConfig = new HnswConfigDiff { M = (ulong)options.HnswM, EfConstruct = (ulong)options.HnswEfConstruct },
            Metadata =
            {
                [QdrantSchema.MetaSchema] = (long)QdrantSchema.Version,
                [QdrantSchema.MetaModel] = settings.ModelId,
                [QdrantSchema.MetaDimensions] = (long)settings.Dimensions,
                [QdrantSchema.MetaCreatedAt] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            },
        };
        foreach (var (key, prompt) in new[] { (QdrantSchema.MetaQueryPrompt, settings.QueryPrompt), (QdrantSchema.MetaPassagePrompt, settings.PassagePrompt), (QdrantSchema.MetaRecordSchema, settings.Record?.ToJson()) })
        {
            if (prompt is not null)
            {
                create.Metadata[key] = prompt;
            }
        }

        if (options.ScalarQuantization)
        {
            create.QuantizationConfig = new QuantizationConfig
            {
                Scalar = new ScalarQuantization { Type = QuantizationType.Int8, Quantile = 0.99f, AlwaysRam = true },
            };
        }
#pragma warning restore CS0612

        try
        {
            await this.Retry.ExecuteAsync($"create collection {physical}", token => this._client.CreateCollectionAsync(create, token), cancellationToken).ConfigureAwait(false);
        }
        catch (StoreException ex) when (ex.InnerException is RpcException { StatusCode: StatusCode.AlreadyExists or StatusCode.InvalidArgument } rpc
            && rpc.Status.Detail.Contains("already exists", StringComparison.OrdinalIgnoreCase))
        {
            // Created meanwhile by another process (or by an attempt whose reply was lost): open it as it is.
            return;
        }

        this.Logger.CollectionCreated(physical, this.Endpoint, settings.Dimensions, options.Shards, options.Replicas, options.OnDiskVectors, options.ScalarQuantization);
    }

    /// <summary>
    /// Creates the payload indexes the collection lacks: right after creation, before any point arrives (an index made
    /// later must be built over every point), and again on later opens, so a creation cut short is completed.
    /// </summary>
    /// <remarks>A collection of records also gets one index per field its record schema marks indexed (<see cref="QdrantSchema.FieldIndexType"/>).</remarks>
    private async Task EnsurePayloadIndexesAsync(string physical, QdrantCollectionInfo info, RecordSchema? record, CancellationToken cancellationToken)
    {
        (string Field, PayloadSchemaType Type, PayloadIndexParams? Parameters)[] indexes =
        [
            (QdrantSchema.Kind, PayloadSchemaType.Keyword, null),
            (QdrantSchema.DocumentId, PayloadSchemaType.Keyword, null),
            (QdrantSchema.SourceDirectories, PayloadSchemaType.Keyword, null),
            (QdrantSchema.TagPairs, PayloadSchemaType.Keyword, null),
            (QdrantSchema.IndexedAt, PayloadSchemaType.Integer, null),
        ];
        if (this.Options.TenantTag is not null)
        {
            indexes = [.. indexes, (QdrantSchema.Tenant, PayloadSchemaType.Keyword, new PayloadIndexParams { KeywordIndexParams = new KeywordIndexParams { IsTenant = true } })];
        }

        if (record is not null)
        {
            indexes = [.. indexes, .. record.Fields.Where(f => f.IsIndexed).Select(f => (QdrantSchema.FieldKey(f.Name), QdrantSchema.FieldIndexType(f.Kind), (PayloadIndexParams?)null))];
        }

        foreach (var (field, type, parameters) in indexes.Where(i => !info.PayloadSchema.ContainsKey(i.Field)))
        {
            await this.Retry.ExecuteAsync($"index {field} of {physical}", token => this._client.CreatePayloadIndexAsync(physical, field, type, parameters, wait: true, cancellationToken: token), cancellationToken).ConfigureAwait(false);
        }
    }

    private string PhysicalName(string name)
    {
        if (!ValidName().IsMatch(name ?? string.Empty))
        {
            throw new ArgumentException($"collection name '{name}': expected 1–64 letters, digits, '_', '-' or '.', not starting with '.'.", nameof(name));
        }

        return string.Create(CultureInfo.InvariantCulture, $"{this.Options.CollectionPrefix}{name}");
    }

    // The embedded store's rule, so a collection name works in both stores.
    [GeneratedRegex(@"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$")]
    private static partial Regex ValidName();
}
