using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using Microsoft.Extensions.VectorData.ProviderServices;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Indexer.Stores.Fields;

namespace T5Gemma2.Rag.Indexer.VectorData;

/// <summary>
/// A Microsoft.Extensions.VectorData collection over a collection of either of our stores (the embedded SQLite store or
/// Qdrant), the same code for both: records are passages (<see cref="RecordMapper"/>), filters become store filters
/// (<see cref="RecordFilterTranslator"/>), vector search is the store's dense search (cosine similarity, higher is
/// better), hybrid search its BM25 + dense fusion (reciprocal rank). The collection's record schema is stored with it and
/// checked on first use, so another record type is refused with the first difference.
/// </summary>
/// <remarks>
/// Vectors are stored unit-length (cosine), so a vector read back is the written one normalized, as in Qdrant. A store
/// failure is a <see cref="VectorStoreException"/> carrying the store's one-line message; bad arguments stay
/// <see cref="ArgumentException"/>, and what the stores cannot do <see cref="NotSupportedException"/>.
/// </remarks>
public class T5Gemma2VectorStoreCollection<TKey, TRecord> : VectorStoreCollection<TKey, TRecord>, IKeywordHybridSearchable<TRecord>
    where TKey : notnull
    where TRecord : class
{
    /// <summary>The model id of a collection whose vectors the caller computed: not compared with any other.</summary>
    public const string ExternalModelId = "external";

    private const string NativeVectorTypes = "ReadOnlyMemory<float>, Embedding<float>, float[]";

    private readonly IPassageStore _store;
    private readonly CollectionModel _model;
    private readonly RecordMapper _mapper;
    private readonly string? _modelId;
    private readonly VectorStoreMetadata _storeMetadata;
    private readonly VectorStoreCollectionMetadata _metadata;
    private readonly SemaphoreSlim _opening = new(1, 1);
    private IPassageCollection? _collection;

    /// <param name="store">The store (not owned: disposing the collection leaves it open).</param>
    /// <param name="name">The collection's name.</param>
    /// <param name="options">Record definition, embedding generator, model id; null: the record type's attributes alone.</param>
    public T5Gemma2VectorStoreCollection(IPassageStore store, string name, T5Gemma2CollectionOptions? options = null)
        : this(store, name, options, dynamic: false)
    {
    }

    internal T5Gemma2VectorStoreCollection(IPassageStore store, string name, T5Gemma2CollectionOptions? options, bool dynamic)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        options ??= new T5Gemma2CollectionOptions();
        if (!dynamic && typeof(TRecord) == typeof(Dictionary<string, object?>))
        {
            throw new NotSupportedException(VectorDataStrings.NonDynamicCollectionWithDictionaryNotSupported(typeof(T5Gemma2VectorStoreCollection<object, Dictionary<string, object?>>)));
        }

        this._store = store;
        this.Name = name;
        this._model = dynamic
            ? new T5Gemma2CollectionModelBuilder().BuildDynamic(options.Definition ?? throw new ArgumentException("a dynamic collection needs a record definition.", nameof(options)), options.EmbeddingGenerator)
            : new T5Gemma2CollectionModelBuilder().Build(typeof(TRecord), typeof(TKey), options.Definition, options.EmbeddingGenerator);
        this._mapper = new RecordMapper(this._model);
        this._modelId = options.ModelId
            ?? this._model.VectorProperty.EmbeddingGenerator?.GetService<EmbeddingGeneratorMetadata>()?.DefaultModelId;
        this._storeMetadata = new VectorStoreMetadata { VectorStoreSystemName = T5Gemma2VectorStore.SystemName(store), VectorStoreName = store.Location };
        this._metadata = new VectorStoreCollectionMetadata
        {
            VectorStoreSystemName = this._storeMetadata.VectorStoreSystemName,
            VectorStoreName = this._storeMetadata.VectorStoreName,
            CollectionName = name,
        };
    }

    public override string Name { get; }

    /// <summary>The record shape this collection writes and expects to find.</summary>
    public RecordSchema Schema => this._mapper.Schema;

    public override async Task<bool> CollectionExistsAsync(CancellationToken cancellationToken = default) =>
        await this.RunAsync("CollectionExists", async () =>
        {
            // Collections belong to their store (the embedded one shares one instance per name): never disposed here.
            return await this._store.OpenCollectionAsync(this.Name, cancellationToken).ConfigureAwait(false) is not null;
        }).ConfigureAwait(false);

    /// <summary>Creates the collection for this record schema, or checks that an existing one holds it (a <see cref="VectorStoreException"/> naming the first difference when not).</summary>
    public override async Task EnsureCollectionExistsAsync(CancellationToken cancellationToken = default) =>
        await this.RunAsync("EnsureCollectionExists", async () =>
        {
            // Asked of the store every time: the collection may have been deleted by another instance or process.
            this.Forget();
            if (await this.TryOpenAsync("EnsureCollectionExists", cancellationToken).ConfigureAwait(false) is { } existing)
            {
                // Opened through the store's create path with this record schema, so a store that indexes fields (Qdrant)
                // adds an index for a property marked IsIndexed since the collection was made.
                await this._store.OpenOrCreateCollectionAsync(this.Name, existing.Settings with { Record = this.Schema }, cancellationToken).ConfigureAwait(false);
                return true;
            }

            int dimensions = this._model.VectorProperty.Dimensions;
            if (dimensions < 1)
            {
                throw new InvalidOperationException($"vector property '{this._model.VectorProperty.ModelName}' declares no dimension count; a collection needs one to be created.");
            }

            // Our generator's settings carry its prompts too, so t5rag search over the collection embeds queries as these were.
            var settings = (this._model.VectorProperty.EmbeddingGenerator is OnnxEmbeddingGenerator ours && ours.Dimensions == dimensions
                ? ours.CollectionSettings()
                : new CollectionSettings(dimensions, this._modelId ?? ExternalModelId)) with { Record = this.Schema };
            return await this.TryOpenAsync("EnsureCollectionExists", cancellationToken, async () => await this._store.OpenOrCreateCollectionAsync(this.Name, settings, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false) is not null;
        }).ConfigureAwait(false);

    public override async Task EnsureCollectionDeletedAsync(CancellationToken cancellationToken = default) =>
        await this.RunAsync("EnsureCollectionDeleted", async () =>
        {
            await this._opening.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                this._collection = null;
                return await this._store.DeleteCollectionAsync(this.Name, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                this._opening.Release();
            }
        }).ConfigureAwait(false);

    public override async Task<TRecord?> GetAsync(TKey key, RecordRetrievalOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        await foreach (var record in this.GetAsync([key], options, cancellationToken).ConfigureAwait(false))
        {
            return record;
        }

        return null;
    }

    public override async IAsyncEnumerable<TRecord> GetAsync(IEnumerable<TKey> keys, RecordRetrievalOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        bool vectors = this.IncludeVectors(options?.IncludeVectors ?? false);
        var ids = keys.Select(k => RecordMapper.PassageId(RecordMapper.KeyText(k))).ToList();
        var found = await this.OnCollectionAsync("Get", async collection =>
        {
            return await collection.GetPassagesAsync(ids, vectors, cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);

        // In the order the keys were given, as a caller zipping keys with records expects.
        var byId = found.ToDictionary(p => p.Passage.Id, StringComparer.Ordinal);
        foreach (string id in ids.Distinct(StringComparer.Ordinal))
        {
            if (byId.TryGetValue(id, out var stored))
            {
                yield return this._mapper.ToRecord<TRecord>(stored);
            }
        }
    }

    public override async IAsyncEnumerable<TRecord> GetAsync(Expression<Func<TRecord, bool>> filter, int top, FilteredRecordRetrievalOptions<TRecord>? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        options ??= new FilteredRecordRetrievalOptions<TRecord>();
        var request = new PassageListRequest(top)
        {
            Skip = options.Skip,
            Filter = this.Filter(filter),
            OrderBy = this.Order(options.OrderBy),
            IncludeVectors = this.IncludeVectors(options.IncludeVectors),
        };
        var found = await this.OnCollectionAsync("Get", async collection =>
        {
            return await collection.ListPassagesAsync(request, cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        foreach (var stored in found)
        {
            yield return this._mapper.ToRecord<TRecord>(stored);
        }
    }

    public override Task DeleteAsync(TKey key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return this.DeleteAsync([key], cancellationToken);
    }

    public override async Task DeleteAsync(IEnumerable<TKey> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var ids = keys.Select(k => RecordMapper.KeyText(k)).Distinct(StringComparer.Ordinal).ToList();
        if (ids.Count == 0)
        {
            return;
        }

        await this.OnCollectionAsync("Delete", async collection =>
        {
            return await collection.DeleteDocumentsAsync(ids, cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    public override Task UpsertAsync(TRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        return this.UpsertAsync([record], cancellationToken);
    }

    /// <summary>Writes the records in one store call (the embedded store: one transaction), embedding their vector properties first when those are inputs of an embedding generator.</summary>
    public override async Task UpsertAsync(IEnumerable<TRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        var batch = records.ToList();
        if (batch.Count == 0)
        {
            return;
        }

        var keys = batch.Select(r => this._mapper.KeyOf(r ?? throw new ArgumentException("a record in the batch is null.", nameof(records)))).ToList();
        var vectorProperty = this._model.VectorProperty;
        IReadOnlyList<Embedding>? generated = null;
        if (!T5Gemma2CollectionModelBuilder.IsNativeVector(vectorProperty.Type))
        {
            var inputs = batch.Select(r => vectorProperty.GetValueAsObject(r) ?? throw new ArgumentException($"record '{this._mapper.KeyOf(r)}' has no value in '{vectorProperty.ModelName}' to embed.", nameof(records))).ToList();
            generated = inputs.All(i => i is string) && vectorProperty.EmbeddingGenerator is IEmbeddingGenerator<string, Embedding<float>> strings
                ? [.. await strings.GenerateAsync(inputs.Cast<string>(), KindOf(EmbeddingInputKind.Passage), cancellationToken).ConfigureAwait(false)]
                : await vectorProperty.GenerateEmbeddingsAsync(inputs!, cancellationToken).ConfigureAwait(false);
        }

        var now = DateTimeOffset.UtcNow;
        var updates = batch.Select((r, i) => this._mapper.ToUpdate(r, keys[i], generated is null ? this._mapper.VectorOf(r) : EmbeddingVector(generated[i]), now)).ToList();
        await this.OnCollectionAsync("Upsert", async collection =>
        {
            await collection.UpsertDocumentsAsync(updates, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Nearest records by cosine similarity (higher is better), after the filter, from <c>Skip</c>.</summary>
    public override async IAsyncEnumerable<VectorSearchResult<TRecord>> SearchAsync<TInput>(TInput searchValue, int top, VectorSearchOptions<TRecord>? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(searchValue);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        options ??= new VectorSearchOptions<TRecord>();
        _ = this._model.GetVectorPropertyOrSingle(options);
        var request = new SearchRequest(SearchMode.Dense, top + options.Skip)
        {
            Vector = await this.QueryVectorAsync(searchValue, cancellationToken).ConfigureAwait(false),
            Filter = options.Filter is { } filter ? this.Filter(filter) : PassageFilter.None,
        };
        await foreach (var result in this.RunSearchAsync(request, options.Skip, options.ScoreThreshold, this.IncludeVectors(options.IncludeVectors), cancellationToken).ConfigureAwait(false))
        {
            yield return result;
        }
    }

    /// <summary>
    /// The store's hybrid search: the dense ranking and the BM25 ranking of the keywords over the full-text property,
    /// fused by reciprocal rank (so scores are RRF sums, not similarities). Needs a full-text property.
    /// </summary>
    public async IAsyncEnumerable<VectorSearchResult<TRecord>> HybridSearchAsync<TInput>(TInput searchValue, ICollection<string> keywords, int top, HybridSearchOptions<TRecord>? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        where TInput : notnull
    {
        ArgumentNullException.ThrowIfNull(searchValue);
        ArgumentNullException.ThrowIfNull(keywords);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        options ??= new HybridSearchOptions<TRecord>();
        _ = this._model.GetVectorPropertyOrSingle(new VectorSearchOptions<TRecord> { VectorProperty = options.VectorProperty });
        var textProperty = this._model.GetFullTextDataPropertyOrSingle(options.AdditionalProperty);
        if (textProperty.StorageName != this.Schema.Text)
        {
            throw new InvalidOperationException($"property '{textProperty.ModelName}' is not full-text indexed; hybrid search ranks the full-text property.");
        }

        var request = new SearchRequest(SearchMode.Hybrid, top + options.Skip)
        {
            Vector = await this.QueryVectorAsync(searchValue, cancellationToken).ConfigureAwait(false),
            Text = string.Join(' ', keywords),
            Filter = options.Filter is { } filter ? this.Filter(filter) : PassageFilter.None,
        };
        await foreach (var result in this.RunSearchAsync(request, options.Skip, options.ScoreThreshold, this.IncludeVectors(options.IncludeVectors), cancellationToken).ConfigureAwait(false))
        {
            yield return result;
        }
    }

    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(VectorStoreCollectionMetadata) ? this._metadata
            : serviceType == typeof(IPassageStore) ? this._store
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // The store's collection stays open: it is the store's (see CollectionExistsAsync).
            this._collection = null;
            this._opening.Dispose();
        }

        base.Dispose(disposing);
    }

    private async IAsyncEnumerable<VectorSearchResult<TRecord>> RunSearchAsync(SearchRequest request, int skip, double? threshold, bool includeVectors, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var (hits, vectors) = await this.OnCollectionAsync("Search", async collection =>
        {
            var found = (await collection.SearchAsync(request, cancellationToken).ConfigureAwait(false)).Skip(skip).Where(h => threshold is not { } t || h.Score >= t).ToList();
            var read = includeVectors && found.Count > 0
                ? await collection.GetVectorsAsync([.. found.Select(h => h.Passage.Id)], cancellationToken).ConfigureAwait(false)
                : null;
            return (found, read);
        }, cancellationToken).ConfigureAwait(false);
        foreach (var hit in hits)
        {
            var vector = vectors is not null && vectors.TryGetValue(hit.Passage.Id, out float[]? v) ? v : ReadOnlyMemory<float>.Empty;
            yield return new VectorSearchResult<TRecord>(this._mapper.ToRecord<TRecord>(new StoredPassage(hit.Passage, vector)), hit.Score);
        }
    }

    private async Task<ReadOnlyMemory<float>> QueryVectorAsync<TInput>(TInput searchValue, CancellationToken cancellationToken)
        where TInput : notnull
    {
        var vectorProperty = this._model.VectorProperty;
        ReadOnlyMemory<float> vector = searchValue switch
        {
            ReadOnlyMemory<float> memory => memory,
            float[] array => array,
            Embedding<float> embedding => embedding.Vector,
            string text when vectorProperty.EmbeddingGenerator is IEmbeddingGenerator<string, Embedding<float>> strings =>
                (await strings.GenerateAsync([text], KindOf(EmbeddingInputKind.Query), cancellationToken).ConfigureAwait(false))[0].Vector,
            _ when vectorProperty.EmbeddingGenerator is not null => EmbeddingVector(await vectorProperty.GenerateEmbeddingAsync(searchValue, cancellationToken).ConfigureAwait(false)),
            _ => throw new NotSupportedException(VectorDataStrings.InvalidSearchInputAndNoEmbeddingGeneratorWasConfigured(typeof(TInput), NativeVectorTypes)),
        };
        if (vectorProperty.Dimensions > 0 && vector.Length != vectorProperty.Dimensions)
        {
            throw new ArgumentException($"the search vector has {vector.Length} dimensions; '{vectorProperty.ModelName}' has {vectorProperty.Dimensions}.", nameof(searchValue));
        }

        return vector;
    }

    /// <summary>
    /// Options that tell an asymmetric model (our generator: EmbeddingGemma's query and document prompts) which side it
    /// embeds; MEVD's own dispatch passes none, so a string generator is called directly. Other generators ignore them.
    /// </summary>
    private static EmbeddingGenerationOptions KindOf(EmbeddingInputKind kind) => new EmbeddingGenerationOptions().WithInputKind(kind);

    private static ReadOnlyMemory<float> EmbeddingVector(Embedding embedding) => embedding is Embedding<float> floats
        ? floats.Vector
        : throw new NotSupportedException($"the embedding generator made a {embedding.GetType().Name}; the T5Gemma2 stores hold Embedding<float>.");

    private bool IncludeVectors(bool wanted) => wanted && !T5Gemma2CollectionModelBuilder.IsNativeVector(this._model.VectorProperty.Type)
        ? throw new NotSupportedException(VectorDataStrings.IncludeVectorsNotSupportedWithEmbeddingGeneration)
        : wanted;

    private PassageFilter Filter(LambdaExpression filter) =>
        RecordFilterTranslator.Translate(filter, this._model, this.Schema) is { } condition ? new PassageFilter { Fields = condition } : PassageFilter.None;

    private List<FieldOrder> Order(Func<FilteredRecordRetrievalOptions<TRecord>.OrderByDefinition, FilteredRecordRetrievalOptions<TRecord>.OrderByDefinition>? orderBy)
    {
        if (orderBy is null)
        {
            return [];
        }

        var order = new List<FieldOrder>();
        foreach (var sort in orderBy(new FilteredRecordRetrievalOptions<TRecord>.OrderByDefinition()).Values)
        {
            var property = this._model.GetDataOrKeyProperty(sort.PropertySelector);
            if (property is not DataPropertyModel || RecordFieldTypes.KindOf(property.Type) is FieldKind.StringList or FieldKind.IntegerList or FieldKind.NumberList)
            {
                throw new NotSupportedException($"the T5Gemma2 stores order records by a scalar data property; '{property.ModelName}' is not one.");
            }

            order.Add(new FieldOrder(property.StorageName, !sort.Ascending));
        }

        return order;
    }

    /// <summary>Opens the collection (a <see cref="VectorStoreException"/> when there is none) and runs a store call on it, as <see cref="RunAsync"/> does.</summary>
    private Task<T> OnCollectionAsync<T>(string operation, Func<IPassageCollection, Task<T>> call, CancellationToken cancellationToken) =>
        this.RunAsync(operation, async () => await call(await this.OpenAsync(operation, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false));

    private async Task<IPassageCollection> OpenAsync(string operation, CancellationToken cancellationToken) =>
        await this.TryOpenAsync(operation, cancellationToken).ConfigureAwait(false)
            ?? throw this.Failure($"collection '{this.Name}' does not exist in {this._store.Location}; call EnsureCollectionExistsAsync first.", operation);

    /// <summary>
    /// The store's collection, opened (by <paramref name="open"/> when given: creating it) and checked against the record
    /// schema once; null when there is none.
    /// </summary>
    private async Task<IPassageCollection?> TryOpenAsync(string operation, CancellationToken cancellationToken, Func<Task<IPassageCollection?>>? open = null)
    {
        if (Volatile.Read(ref this._collection) is { } opened)
        {
            return opened;
        }

        await this._opening.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (this._collection is null && await (open ?? (() => this._store.OpenCollectionAsync(this.Name, cancellationToken)))().ConfigureAwait(false) is { } found)
            {
                this.ThrowIfIncompatible(found.Settings, operation);
                this._collection = found;
            }

            return this._collection;
        }
        finally
        {
            this._opening.Release();
        }
    }

    private void ThrowIfIncompatible(CollectionSettings stored, string operation)
    {
        string where = $"collection '{this.Name}' in {this._store.Location}";
        if (stored.Record is not { } schema)
        {
            throw this.Failure($"{where} holds documents indexed by t5rag, not records written through VectorData; search it with t5rag or PassageRetriever, or give the records another collection.", operation);
        }

        if (schema.FirstDifference(this.Schema) is { } difference)
        {
            throw this.Failure($"{where} does not hold {typeof(TRecord).Name} records: {difference}.", operation);
        }

        int dimensions = this._model.VectorProperty.Dimensions;
        if (dimensions > 0 && stored.Dimensions != dimensions)
        {
            throw this.Failure($"{where} holds {stored.Dimensions}-dimension vectors; '{this._model.VectorProperty.ModelName}' declares {dimensions}.", operation);
        }

        if (this._modelId is { } model && stored.ModelId != ExternalModelId && stored.ModelId != model)
        {
            throw this.Failure($"{where} holds vectors of model '{stored.ModelId}'; this collection's are '{model}'.", operation);
        }
    }

    /// <summary>Runs a store call, a store failure becoming the <see cref="VectorStoreException"/> MEVD callers catch (its message the store's one line).</summary>
    private async Task<T> RunAsync<T>(string operation, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception ex) when (VectorStoreFailures.IsStoreFailure(ex))
        {
            // The collection may be gone or closed (a delete elsewhere): the next call opens it afresh.
            this.Forget();
            throw VectorStoreFailures.From(ex, this._storeMetadata, this.Name, operation);
        }
    }

    /// <summary>Drops the opened collection, so the next call asks the store again.</summary>
    private void Forget() => Volatile.Write(ref this._collection, null);

    private VectorStoreException Failure(string message, string operation) => VectorStoreFailures.Create(this._storeMetadata, this.Name, operation, message);

}
