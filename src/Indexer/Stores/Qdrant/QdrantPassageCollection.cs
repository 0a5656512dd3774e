using Google.Protobuf.Collections;
using Qdrant.Client.Grpc;
using QdrantCollectionInfo = Qdrant.Client.Grpc.CollectionInfo;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Indexer.Stores.Fields;
using static Qdrant.Client.Grpc.Conditions;

namespace T5Gemma2.Rag.Indexer.Stores.Qdrant;

/// <summary>
/// One t5rag collection in Qdrant (layout: <see cref="QdrantSchema"/>).
/// </summary>
/// <remarks>
/// <para>Writes. Qdrant has no transactions, so <see cref="UpsertDocumentsAsync"/> orders its steps to stay
/// recoverable: (0) mark the documents' existing records pending (their content hash emptied), (1) upsert every new
/// passage (batched by count and bytes, several requests in flight), (2) delete each document's passages that are not
/// among the new ones, (3) upsert the document records. A run killed before (3) leaves a pending record (or none), which
/// matches no content, so the next run redoes the document whatever it then holds; passage ids are deterministic, so
/// redoing it overwrites rather than duplicates. Searches running meanwhile may briefly see a document's old and new
/// passages side by side.</para>
/// <para>Searches, all through the Query API. Dense: the server's HNSW (with int8 rescoring when quantized). Keyword:
/// the BM25 sparse vector (IDF applied by the server). Hybrid with reciprocal rank fusion: a dense and a sparse prefetch
/// fused by the server's RRF, in one batch request with both rankings (ids only) that give each hit its ranks. Convex
/// fusion, which Qdrant has no equivalent of, and source prefixes that the client must finish checking fuse the two
/// rankings here with <see cref="HybridFusion"/>, as the embedded store does.</para>
/// </remarks>
public sealed class QdrantPassageCollection : IPassageCollection
{
    /// <summary>Pages of at most this many candidates when a source prefix has to be checked on the client.</summary>
    private const int MaxFilteredPages = 32;

    /// <summary>Document deletions (filter operations) per batch request.</summary>
    private const int DeletesPerRequest = 64;

    /// <summary>Points read back per request (ids to vectors, records).</summary>
    private const int ReadPageSize = 512;

    private readonly QdrantPassageStore _store;
    private readonly DateTimeOffset _createdAt;

    internal QdrantPassageCollection(QdrantPassageStore store, string name, string physicalName, CollectionSettings settings, DateTimeOffset createdAt)
    {
        this._store = store;
        this.Name = name;
        this.PhysicalName = physicalName;
        this.Settings = settings;
        this._createdAt = createdAt;
    }

    public string Name { get; }

    /// <summary>The collection's name on the server (with the store's prefix).</summary>
    public string PhysicalName { get; }

    public CollectionSettings Settings { get; }

    private QdrantStoreOptions Options => this._store.Options;

    /// <inheritdoc />
    public async Task<CollectionInfo> GetInfoAsync(CancellationToken cancellationToken = default)
    {
        long documents = await this.CountAsync(QdrantSchema.DocumentKind, cancellationToken).ConfigureAwait(false);
        long passages = await this.CountAsync(QdrantSchema.PassageKind, cancellationToken).ConfigureAwait(false);
        return new CollectionInfo(this.Name, this.Settings, documents, passages, this._createdAt, QdrantStoreLocation.Format(this._store.Endpoint, this.Name));
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, DocumentRecord>> GetDocumentsAsync(CancellationToken cancellationToken = default)
    {
        var documents = new Dictionary<string, DocumentRecord>(StringComparer.Ordinal);
        var filter = new Filter { Must = { QdrantFilters.OfKind(QdrantSchema.DocumentKind) } };
        PointId? offset = null;
        do
        {
            var page = await this.Call("read document records", token => this._store.Client.ScrollAsync(
                this.PhysicalName, filter, ReadPageSize, offset, payloadSelector: true, vectorsSelector: false, cancellationToken: token), cancellationToken).ConfigureAwait(false);
            foreach (var point in page.Result)
            {
                var record = ToRecord(point.Payload);
                documents[record.DocumentId] = record;
            }

            offset = page.NextPageOffset;
        }
        while (offset is not null && offset.PointIdOptionsCase != PointId.PointIdOptionsOneofCase.None);

        return documents;
    }

    /// <inheritdoc />
    /// <remarks>
    /// One request: the record's point is read by its id (<see cref="QdrantSchema.DocumentPointId"/>, a hash of the
    /// document id, so no character of it is a pattern), then checked to be that document's record.
    /// </remarks>
    public async Task<DocumentRecord?> GetDocumentAsync(string documentId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        PointId[] id = [QdrantSchema.DocumentPointId(documentId)];
        var found = await this.Call("read document record", token => this._store.Client.RetrieveAsync(
            this.PhysicalName, id, withPayload: true, withVectors: false, cancellationToken: token), cancellationToken).ConfigureAwait(false);
        return found.Select(p => p.Payload)
            .Where(p => String(p, QdrantSchema.Kind) == QdrantSchema.DocumentKind && String(p, QdrantSchema.DocumentId) == documentId)
            .Select(ToRecord)
            .FirstOrDefault();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, float[]>> GetVectorsAsync(IReadOnlyCollection<string> passageIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(passageIds);
        var vectors = new Dictionary<string, float[]>(StringComparer.Ordinal);

        var wanted = PointIds(passageIds);
        foreach (var chunk in wanted.Keys.Chunk(ReadPageSize))
        {
            PointId[] ids = [.. chunk.Select(g => (PointId)g)];
            var points = await this.Call("read vectors", token => this._store.Client.RetrieveAsync(
                this.PhysicalName, ids, new WithPayloadSelector { Enable = false }, new WithVectorsSelector { Include = new VectorsSelector { Names = { QdrantSchema.DenseVector } } },
                cancellationToken: token), cancellationToken).ConfigureAwait(false);
            foreach (var point in points)
            {
                if (Guid.TryParse(point.Id.Uuid, out var guid) && wanted.TryGetValue(guid, out string? id)
                    && point.Vectors?.Vectors?.Vectors is { } named && named.TryGetValue(QdrantSchema.DenseVector, out var vector)
                    && vector.GetDenseVector() is { } dense)
                {
                    vectors[id] = [.. dense.Data];
                }
            }
        }

        return vectors;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredPassage>> GetPassagesAsync(IReadOnlyCollection<string> passageIds, bool includeVectors, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(passageIds);
        var passages = new List<StoredPassage>();

        foreach (var chunk in PointIds(passageIds).Keys.Chunk(ReadPageSize))
        {
            PointId[] points = [.. chunk.Select(g => (PointId)g)];
            var found = await this.Call("read passages", token => this._store.Client.RetrieveAsync(
                this.PhysicalName, points, new WithPayloadSelector { Enable = true }, this.VectorsSelector(includeVectors), cancellationToken: token), cancellationToken).ConfigureAwait(false);
            passages.AddRange(found.Where(p => String(p.Payload, QdrantSchema.Kind) == QdrantSchema.PassageKind).Select(p => ToStored(p.Id, p.Payload, p.Vectors, includeVectors)));
        }

        return passages;
    }

    /// <inheritdoc />
    /// <remarks>
    /// A scroll under the filter. Ordered by one field, through Qdrant's order_by (which needs that field indexed:
    /// an integer, number or timestamp field the record schema marks indexed), reading skip + top points; unordered, in
    /// point-id order, page by page. Qdrant orders by one key only, and cannot order while a source prefix must be
    /// finished on the client: both are refused rather than sorted here.
    /// </remarks>
    public async Task<IReadOnlyList<StoredPassage>> ListPassagesAsync(PassageListRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var plan = QdrantFilters.Translate(request.Filter, this.Options.TenantTag);
        var filter = QdrantFilters.And(plan.Filter, QdrantFilters.OfKind(QdrantSchema.PassageKind));
        int want = request.Skip + request.Top;
        if (request.OrderBy.Count > 0)
        {
            if (request.OrderBy.Count > 1 || plan.ClientSourcePrefix is not null)
            {
                throw new NotSupportedException(request.OrderBy.Count > 1
                    ? $"the Qdrant store orders by one field; this listing orders by {string.Join(", ", request.OrderBy.Select(o => $"'{o.Field}'"))}."
                    : "the Qdrant store cannot order a listing whose source prefix does not end at a '/'.");
            }

            // order_by needs a range index: refused here in words rather than by the server's InvalidArgument. The index is
            // looked up on the server, since one may have been added after the collection was made.
            string key = QdrantSchema.FieldKey(request.OrderBy[0].Field);
            var info = await this._store.ReadInfoAsync(this.PhysicalName, cancellationToken, knownToExist: true).ConfigureAwait(false);
            if (info?.PayloadSchema.TryGetValue(key, out var index) != true || index!.DataType is not (PayloadSchemaType.Integer or PayloadSchemaType.Float or PayloadSchemaType.Datetime))
            {
                throw new NotSupportedException($"the Qdrant store orders by an indexed integer, number or date field (IsIndexed); '{request.OrderBy[0].Field}' is not one.");
            }

            var order = new OrderBy { Key = key, Direction = request.OrderBy[0].Descending ? Direction.Desc : Direction.Asc };
            var ordered = await this.Call("list passages", token => this._store.Client.ScrollAsync(this.PhysicalName, filter, (uint)want, payloadSelector: true,
                vectorsSelector: this.VectorsSelector(request.IncludeVectors), orderBy: order, cancellationToken: token), cancellationToken).ConfigureAwait(false);
            return [.. ordered.Result.Skip(request.Skip).Select(p => ToStored(p.Id, p.Payload, p.Vectors, request.IncludeVectors))];
        }

        var kept = new List<StoredPassage>();
        PointId? offset = null;
        do
        {
            var page = await this.Call("list passages", token => this._store.Client.ScrollAsync(this.PhysicalName, filter, (uint)Math.Min(want, ReadPageSize), offset,
                payloadSelector: true, vectorsSelector: this.VectorsSelector(request.IncludeVectors), cancellationToken: token), cancellationToken).ConfigureAwait(false);
            kept.AddRange(page.Result.Where(p => plan.Accepts(String(p.Payload, QdrantSchema.Source))).Select(p => ToStored(p.Id, p.Payload, p.Vectors, request.IncludeVectors)));
            offset = page.NextPageOffset;
        }
        while (kept.Count < want && offset is not null && offset.PointIdOptionsCase != PointId.PointIdOptionsOneofCase.None);

        return [.. kept.Skip(request.Skip).Take(request.Top)];
    }

    /// <inheritdoc />
    /// <remarks>Not atomic (Qdrant has no transactions), but ordered so that any interruption is repaired by the next run; see the type's remarks.</remarks>
    public async Task UpsertDocumentsAsync(IReadOnlyList<DocumentUpdate> updates, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updates);
        DocumentUpdate.ThrowIfInvalid(updates, this.Name, this.Settings.Dimensions);
        foreach (var update in updates)
        {
            foreach (var stored in update.Passages)
            {
                if (!Guid.TryParse(stored.Passage.Id, out _))
                {
                    throw new ArgumentException($"passage id '{stored.Passage.Id}' is not a UUID; Qdrant point ids are UUIDs (PassageIds.Create makes them).", nameof(updates));
                }
            }
        }

        if (updates.Count == 0)
        {
            return;
        }

        // (0) Existing records of these documents become pending: no content matches an empty hash.
        foreach (var chunk in updates.Select(u => u.Document.DocumentId).Distinct(StringComparer.Ordinal).Chunk(ReadPageSize))
        {
            var existing = new Filter { Must = { QdrantFilters.OfKind(QdrantSchema.DocumentKind), Match(QdrantSchema.DocumentId, chunk) } };
            await this.Call("mark document records pending", token => this._store.Client.SetPayloadAsync(
                this.PhysicalName, new Dictionary<string, Value> { [QdrantSchema.ContentHash] = string.Empty }, existing,
                wait: true, ordering: this.Options.WriteOrdering, cancellationToken: token), cancellationToken).ConfigureAwait(false);
        }

        // (1) The passages, in parallel batches.
        var points = updates.SelectMany(u => u.Passages).Select(this.ToPoint).ToList();
        int requests = await this.UpsertPointsAsync(points, "upsert passages", cancellationToken).ConfigureAwait(false);

        // (2) Each document's passages that the new set does not hold, by filter (idempotent).
        var deletes = updates.Select(u => new PointsUpdateOperation
        {
            DeletePoints = new PointsUpdateOperation.Types.DeletePoints { Points = new PointsSelector { Filter = StalePassages(u) } },
        }).ToList();
        foreach (var chunk in deletes.Chunk(DeletesPerRequest))
        {
            await this.Call("delete replaced passages", token => this._store.Client.UpdateBatchAsync(
                this.PhysicalName, chunk, wait: true, ordering: this.Options.WriteOrdering, cancellationToken: token), cancellationToken).ConfigureAwait(false);
            requests++;
        }

        // (3) The records last: a record with its hash says its document is complete.
        var records = updates.Select(u => RecordPoint(u.Document, u.Passages.Count)).ToList();
        requests += await this.UpsertPointsAsync(records, "upsert document records", cancellationToken).ConfigureAwait(false);
        QdrantStoreLog.Upserted(this._store.Logger, this.PhysicalName, points.Count, updates.Count, requests);
    }

    /// <inheritdoc />
    public async Task<int> DeleteDocumentsAsync(IReadOnlyCollection<string> documentIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentIds);
        string[] ids = [.. documentIds.Distinct(StringComparer.Ordinal)];
        int existed = 0;
        foreach (var chunk in ids.Chunk(ReadPageSize))
        {
            PointId[] recordIds = [.. chunk.Select(id => (PointId)QdrantSchema.DocumentPointId(id))];
            var found = await this.Call("read document records", token => this._store.Client.RetrieveAsync(
                this.PhysicalName, recordIds, withPayload: false, withVectors: false, cancellationToken: token), cancellationToken).ConfigureAwait(false);
            existed += found.Count;

            // Passages and records alike carry doc_id: one filter removes both.
            var filter = new Filter { Must = { Match(QdrantSchema.DocumentId, chunk) } };
            await this.Call("delete documents", token => this._store.Client.DeleteAsync(
                this.PhysicalName, filter, wait: true, ordering: this.Options.WriteOrdering, cancellationToken: token), cancellationToken).ConfigureAwait(false);
        }

        return existed;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SearchHit>> SearchAsync(SearchRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        if (request.Vector is { } queryVector && queryVector.Length != this.Settings.Dimensions)
        {
            throw new ArgumentException($"the query vector has {queryVector.Length} dimensions; collection '{this.Name}' holds {this.Settings.Dimensions}.", nameof(request));
        }

        var plan = QdrantFilters.Translate(request.Filter, this.Options.TenantTag);
        Query? dense = null;
        if (request.Mode is SearchMode.Dense or SearchMode.Hybrid)
        {
            dense = request.Vector!.Value.ToArray();
        }

        Query? keyword = null;
        if (request.Mode is SearchMode.Keyword or SearchMode.Hybrid)
        {
            var sparse = this._store.Bm25.EncodeQuery(request.Text!);
            keyword = sparse.IsEmpty ? null : (sparse.Values, sparse.Indices);
        }

        if (request.Mode != SearchMode.Hybrid)
        {
            var query = request.Mode == SearchMode.Dense ? dense : keyword;
            if (query is null)
            {
                return [];
            }

            var points = await this.QueryAsync(query, request.Mode, plan, request.Top, withPayload: true, cancellationToken).ConfigureAwait(false);
            return [.. points.Select((p, i) => new SearchHit(ToPassage(p.Id, p.Payload), p.Score,
                request.Mode == SearchMode.Dense ? i + 1 : null, request.Mode == SearchMode.Keyword ? i + 1 : null))];
        }

        int candidates = Math.Max(request.Top, request.HybridCandidates);
        if (request.Fusion == FusionMethod.ReciprocalRank && plan.ClientSourcePrefix is null && keyword is not null)
        {
            return await this.FuseOnServerAsync(request, dense!, keyword, plan.Filter, candidates, cancellationToken).ConfigureAwait(false);
        }

        // Convex fusion (no server equivalent), a prefix the client must check, or a query without words: both rankings here, fused by HybridFusion.
        IReadOnlyList<ScoredPoint> denseHits, keywordHits;
        if (plan.ClientSourcePrefix is null && keyword is not null)
        {
            var both = await this.Call("hybrid search", token => this._store.Client.QueryBatchAsync(this.PhysicalName,
            [
                this.QueryPoints(dense!, SearchMode.Dense, plan.Filter, candidates, withPayload: false),
                this.QueryPoints(keyword, SearchMode.Keyword, plan.Filter, candidates, withPayload: false),
            ], cancellationToken: token), cancellationToken).ConfigureAwait(false);
            (denseHits, keywordHits) = (both[0].Result, both[1].Result);
        }
        else
        {
            denseHits = await this.QueryAsync(dense!, SearchMode.Dense, plan, candidates, withPayload: false, cancellationToken).ConfigureAwait(false);
            keywordHits = keyword is null ? [] : await this.QueryAsync(keyword, SearchMode.Keyword, plan, candidates, withPayload: false, cancellationToken).ConfigureAwait(false);
        }

        var fused = HybridFusion.Fuse<string>(
            [.. denseHits.Select(p => (p.Id.Uuid, (double)p.Score))],
            [.. keywordHits.Select(p => (p.Id.Uuid, (double)p.Score))],
            request);
        if (fused.Count == 0)
        {
            return [];
        }

        PointId[] winners = [.. fused.Select(f => (PointId)Guid.Parse(f.Key))];
        var payloads = await this.Call("read passages", token => this._store.Client.RetrieveAsync(
            this.PhysicalName, winners, withPayload: true, withVectors: false, cancellationToken: token), cancellationToken).ConfigureAwait(false);
        var passages = payloads.ToDictionary(p => p.Id.Uuid, p => ToPassage(p.Id, p.Payload), StringComparer.Ordinal);
        return [.. fused.Where(f => passages.ContainsKey(f.Key)).Select(f => new SearchHit(passages[f.Key], f.Score, f.DenseRank, f.KeywordRank))];
    }

    /// <summary>
    /// Turns HNSW building off (m = 0) until the returned scope ends, then back on with the collection's m: for a first
    /// load of many passages, where building the graph once at the end is far cheaper than growing it batch by batch.
    /// Searches keep working meanwhile (unindexed segments are scanned).
    /// </summary>
    public async Task<BulkWriteSession> BeginBulkLoadAsync(CancellationToken cancellationToken = default)
    {
        var info = await this._store.ReadInfoAsync(this.PhysicalName, cancellationToken).ConfigureAwait(false)
            ?? throw new StoreException($"Qdrant at {this._store.Endpoint}: collection '{this.PhysicalName}' no longer exists.");
        ulong m = info.Config.HnswConfig is { M: > 0 } hnsw ? hnsw.M : (ulong)this.Options.HnswM;
        await this.SetHnswMAsync(0, cancellationToken).ConfigureAwait(false);
        QdrantStoreLog.BulkLoad(this._store.Logger, this.PhysicalName, "deferred for a bulk load", 0);
        return new BulkWriteSession(async token =>
        {
            await this.SetHnswMAsync(m, token).ConfigureAwait(false);
            QdrantStoreLog.BulkLoad(this._store.Logger, this.PhysicalName, "back on", (int)m);
        });
    }

    /// <inheritdoc />
    /// <remarks>
    /// An empty collection: a bulk load (<see cref="BeginBulkLoadAsync"/>), indexing back on when the session ends.
    /// Otherwise indexing that a killed bulk load left off is turned back on (<see cref="EnsureIndexingOnAsync"/>), and
    /// the session's notice says so. Each is one or two quick requests: nothing goes through <paramref name="slowStep"/>.
    /// </remarks>
    public async Task<BulkWriteSession> BeginBulkWriteAsync(Func<string, Func<Task>, Task>? slowStep = null, CancellationToken cancellationToken = default)
    {
        if (await this.CountAsync(QdrantSchema.PassageKind, cancellationToken).ConfigureAwait(false) == 0)
        {
            return await this.BeginBulkLoadAsync(cancellationToken).ConfigureAwait(false);
        }

        return await this.EnsureIndexingOnAsync(cancellationToken).ConfigureAwait(false)
            ? new BulkWriteSession(notice: $"HNSW indexing of '{this.Name}' had been left off by an interrupted bulk load; turned it back on.")
            : BulkWriteSession.None;
    }

    /// <summary>
    /// Turns HNSW building back on (m from the options) when a bulk load was interrupted before it could (the process
    /// was killed): true when it had been left off. Not for use while another process bulk-loads the collection.
    /// </summary>
    public async Task<bool> EnsureIndexingOnAsync(CancellationToken cancellationToken = default)
    {
        var info = await this._store.ReadInfoAsync(this.PhysicalName, cancellationToken).ConfigureAwait(false);
        if (info?.Config.HnswConfig is not { M: 0 })
        {
            return false;
        }

        await this.SetHnswMAsync((ulong)this.Options.HnswM, cancellationToken).ConfigureAwait(false);
        QdrantStoreLog.BulkLoad(this._store.Logger, this.PhysicalName, "back on after an interrupted bulk load", this.Options.HnswM);
        return true;
    }

    /// <summary>Whether the server has finished optimizing (indexing) the collection: its status is green.</summary>
    public async Task<bool> IsIndexedAsync(CancellationToken cancellationToken = default)
    {
        var info = await this._store.ReadInfoAsync(this.PhysicalName, cancellationToken).ConfigureAwait(false);
        return info is { Status: CollectionStatus.Green };
    }

    /// <summary>Nothing to release: the store owns the connection.</summary>
    public void Dispose()
    {
    }

    /// <summary>
    /// Hybrid search with reciprocal rank fusion on the server (Query API: a dense and a sparse prefetch, fused by RRF
    /// with Qdrant's k = ours + 1, as Qdrant counts ranks from 0). When <see cref="QdrantStoreOptions.HybridRanks"/> is
    /// on, the same batch request also returns both rankings as ids, which give each hit its dense and keyword rank.
    /// </summary>
    private async Task<IReadOnlyList<SearchHit>> FuseOnServerAsync(SearchRequest request, Query dense, Query keyword, Filter? filter, int candidates, CancellationToken cancellationToken)
    {
        var fused = new QueryPoints
        {
            CollectionName = this.PhysicalName,
            Prefetch = { this.Prefetch(dense, SearchMode.Dense, filter, candidates), this.Prefetch(keyword, SearchMode.Keyword, filter, candidates) },
            Query = new Query { Rrf = new Rrf { K = (uint)request.RrfK + 1 } },
            Limit = (ulong)request.Top,
            WithPayload = true,
        };
        if (filter is not null)
        {
            fused.Filter = filter;
        }

        List<QueryPoints> batch = [fused];
        if (this.Options.HybridRanks)
        {
            batch.Add(this.QueryPoints(dense, SearchMode.Dense, filter, candidates, withPayload: false));
            batch.Add(this.QueryPoints(keyword, SearchMode.Keyword, filter, candidates, withPayload: false));
        }

        var results = await this.Call("hybrid search", token => this._store.Client.QueryBatchAsync(this.PhysicalName, batch, cancellationToken: token), cancellationToken).ConfigureAwait(false);
        var denseRanks = results.Count > 1 ? Ranks(results[1].Result) : null;
        var keywordRanks = results.Count > 2 ? Ranks(results[2].Result) : null;
        return [.. results[0].Result.Select(p => new SearchHit(ToPassage(p.Id, p.Payload), p.Score,
            denseRanks?.TryGetValue(p.Id.Uuid, out int d) == true ? d : null,
            keywordRanks?.TryGetValue(p.Id.Uuid, out int k) == true ? k : null))];
    }

    private static Dictionary<string, int> Ranks(IEnumerable<ScoredPoint> ranking) =>
        ranking.Select((p, i) => (p.Id.Uuid, Rank: i + 1)).ToDictionary(r => r.Uuid, r => r.Rank, StringComparer.Ordinal);

    private PrefetchQuery Prefetch(Query query, SearchMode mode, Filter? filter, int limit)
    {
        var prefetch = new PrefetchQuery { Query = query, Using = VectorName(mode), Limit = (ulong)limit };
        if (filter is not null)
        {
            prefetch.Filter = filter;
        }

        if (this.SearchParameters(mode) is { } parameters)
        {
            prefetch.Params = parameters;
        }

        return prefetch;
    }

    private Task SetHnswMAsync(ulong m, CancellationToken cancellationToken) =>
        this.Call($"set HNSW m = {m}", token => this._store.Client.UpdateCollectionAsync(
            this.PhysicalName, hnswConfig: new HnswConfigDiff { M = m }, timeout: this.Options.RequestTimeout, cancellationToken: token), cancellationToken);

    private Task<long> CountAsync(string kind, CancellationToken cancellationToken) =>
        this.Call($"count {kind}s", async token => (long)await this._store.Client.CountAsync(
            this.PhysicalName, new Filter { Must = { QdrantFilters.OfKind(kind) } }, exact: true, cancellationToken: token).ConfigureAwait(false), cancellationToken);

    /// <summary>Sends the points in batches (count and bytes capped), <see cref="QdrantStoreOptions.UploadParallelism"/> at a time; returns the requests made.</summary>
    private async Task<int> UpsertPointsAsync(List<PointStruct> points, string operation, CancellationToken cancellationToken)
    {
        // Each point also costs its field tag and length prefix inside the request.
        var batches = QdrantBatches.Split(points, this.Options.BatchMaxPoints, this.Options.BatchMaxBytes, p => p.CalculateSize() + 8);
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = this.Options.UploadParallelism, CancellationToken = cancellationToken }, async (batch, token) =>
            await this.Call(operation, t => this._store.Client.UpsertAsync(this.PhysicalName, batch, wait: true, ordering: this.Options.WriteOrdering, cancellationToken: t), token).ConfigureAwait(false))
            .ConfigureAwait(false);
        return batches.Count;
    }

    /// <summary>
    /// One ranking, best first: directly when the filter runs wholly on the server; otherwise page by page, keeping
    /// the hits whose source passes the client-side prefix check, until enough are kept or the ranking runs out.
    /// </summary>
    private async Task<IReadOnlyList<ScoredPoint>> QueryAsync(Query query, SearchMode mode, QdrantFilterPlan plan, int want, bool withPayload, CancellationToken cancellationToken)
    {
        if (plan.ClientSourcePrefix is null)
        {
            return await this.Call($"{mode} search", token => this._store.Client.QueryAsync(this.PhysicalName, query, usingVector: VectorName(mode), filter: plan.Filter,
                searchParams: this.SearchParameters(mode), limit: (ulong)want, payloadSelector: withPayload, cancellationToken: token), cancellationToken).ConfigureAwait(false);
        }

        var kept = new List<ScoredPoint>(want);
        int page = Math.Max(want * 4, 64);
        for (int round = 0; round < MaxFilteredPages && kept.Count < want; round++)
        {
            ulong offset = (ulong)round * (ulong)page;
            var points = await this.Call($"{mode} search", token => this._store.Client.QueryAsync(this.PhysicalName, query, usingVector: VectorName(mode), filter: plan.Filter,
                searchParams: this.SearchParameters(mode), limit: (ulong)page, offset: offset,
                payloadSelector: withPayload ? true : new WithPayloadSelector { Include = new PayloadIncludeSelector { Fields = { QdrantSchema.Source } } },
                cancellationToken: token), cancellationToken).ConfigureAwait(false);
            kept.AddRange(points.Where(p => plan.Accepts(p.Payload.TryGetValue(QdrantSchema.Source, out var source) ? source.StringValue : string.Empty)));
            if (points.Count < page)
            {
                break;
            }
        }

        return kept.Count > want ? kept[..want] : kept;
    }

    private QueryPoints QueryPoints(Query query, SearchMode mode, Filter? filter, int limit, bool withPayload)
    {
        var points = new QueryPoints
        {
            CollectionName = this.PhysicalName,
            Query = query,
            Using = VectorName(mode),
            Limit = (ulong)limit,
            WithPayload = withPayload,
        };
        if (filter is not null)
        {
            points.Filter = filter;
        }

        if (this.SearchParameters(mode) is { } parameters)
        {
            points.Params = parameters;
        }

        return points;
    }

    /// <summary>Dense search's parameters: ef when set, and rescoring with oversampling when the vectors are quantized.</summary>
    private SearchParams? SearchParameters(SearchMode mode)
    {
        if (mode != SearchMode.Dense || (this.Options.SearchEf is null && !this.Options.ScalarQuantization))
        {
            return null;
        }

        var parameters = new SearchParams();
        if (this.Options.SearchEf is { } ef)
        {
            parameters.HnswEf = (ulong)ef;
        }

        if (this.Options.ScalarQuantization)
        {
            parameters.Quantization = new QuantizationSearchParams { Rescore = true, Oversampling = this.Options.QuantizationOversampling };
        }

        return parameters;
    }

    private static string VectorName(SearchMode mode) => mode == SearchMode.Keyword ? QdrantSchema.SparseVector : QdrantSchema.DenseVector;

    private Task<T> Call<T>(string operation, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken) =>
        this._store.Retry.ExecuteAsync($"{operation} ({this.PhysicalName})", call, cancellationToken);

    private Task Call(string operation, Func<CancellationToken, Task> call, CancellationToken cancellationToken) =>
        this._store.Retry.ExecuteAsync($"{operation} ({this.PhysicalName})", call, cancellationToken);

    /// <summary>A document's passages other than the given ones (the ids it has now).</summary>
    private static Filter StalePassages(DocumentUpdate update)
    {
        var filter = new Filter
        {
            Must = { MatchKeyword(QdrantSchema.DocumentId, update.Document.DocumentId), QdrantFilters.OfKind(QdrantSchema.PassageKind) },
        };
        if (update.Passages.Count > 0)
        {
            filter.MustNot.Add(HasId([.. update.Passages.Select(p => Guid.Parse(p.Passage.Id))]));
        }

        return filter;
    }

    private PointStruct ToPoint(StoredPassage stored)
    {
        var p = stored.Passage;
        var vectors = new Dictionary<string, Vector> { [QdrantSchema.DenseVector] = stored.Vector.ToArray() };
        var sparse = this._store.Bm25.EncodeDocument(string.Join('\n', new[] { p.Title, p.SectionPath, p.Text }.Where(s => !string.IsNullOrEmpty(s))));
        if (!sparse.IsEmpty)
        {
            vectors[QdrantSchema.SparseVector] = (sparse.Values, sparse.Indices);
        }

        var point = new PointStruct
        {
            Id = Guid.Parse(p.Id),
            Vectors = vectors,
            Payload =
            {
                [QdrantSchema.Kind] = QdrantSchema.PassageKind,
                [QdrantSchema.DocumentId] = p.DocumentId,
                [QdrantSchema.Source] = p.Source,
                [QdrantSchema.SourceDirectories] = QdrantFilters.SourceDirectories(p.Source).ToArray(),
                [QdrantSchema.Start] = p.Start,
                [QdrantSchema.Length] = p.Length,
                [QdrantSchema.Chunk] = p.ChunkIndex,
                [QdrantSchema.Text] = p.Text,
                [QdrantSchema.ContentHash] = p.ContentHash,
                [QdrantSchema.TokenCount] = p.TokenCount,
                [QdrantSchema.Tags] = p.Tags.ToDictionary(t => t.Key, t => (Value)t.Value),
                [QdrantSchema.TagPairs] = p.Tags.Select(t => QdrantFilters.TagPair(t.Key, t.Value)).ToArray(),
                [QdrantSchema.IndexedAt] = p.IndexedAt.ToUnixTimeMilliseconds(),
            },
        };
        if (p.Fields.Count > 0)
        {
            point.Payload[QdrantSchema.Fields] = p.Fields.Where(f => f.Value is not null).ToDictionary(f => f.Key, f => ToValue(f.Value));
        }

        if (p.Title is { } title)
        {
            point.Payload[QdrantSchema.Title] = title;
        }

        if (p.SectionPath is { } section)
        {
            point.Payload[QdrantSchema.Section] = section;
        }

        if (p.Page is { } page)
        {
            point.Payload[QdrantSchema.Page] = page;
        }

        if (p.Kind == PassageKind.Image)
        {
            point.Payload[QdrantSchema.PassageContent] = QdrantSchema.ImagePassage;
        }

        if (p.Image is { } image)
        {
            point.Payload[QdrantSchema.ImageType] = image.MediaType;
            point.Payload[QdrantSchema.Image] = Convert.ToBase64String(image.Data);
        }

        if (this.Options.TenantTag is { } tenantTag && p.Tags.TryGetValue(tenantTag, out string? tenant))
        {
            point.Payload[QdrantSchema.Tenant] = tenant;
        }

        return point;
    }

    private static PointStruct RecordPoint(DocumentRecord record, int passageCount) => new()
    {
        Id = QdrantSchema.DocumentPointId(record.DocumentId),

        // No vectors: a record is never a search result.
        Vectors = new Vectors { Vectors_ = new NamedVectors() },
        Payload =
        {
            [QdrantSchema.Kind] = QdrantSchema.DocumentKind,
            [QdrantSchema.DocumentId] = record.DocumentId,
            [QdrantSchema.Source] = record.Source,
            [QdrantSchema.ContentHash] = record.ContentHash,
            [QdrantSchema.PassageCount] = passageCount,
            [QdrantSchema.IndexedAt] = record.IndexedAt.ToUnixTimeMilliseconds(),
        },
    };

    private static DocumentRecord ToRecord(MapField<string, Value> payload) => new(
        String(payload, QdrantSchema.DocumentId),
        String(payload, QdrantSchema.Source),
        String(payload, QdrantSchema.ContentHash),
        (int)Integer(payload, QdrantSchema.PassageCount),
        DateTimeOffset.FromUnixTimeMilliseconds(Integer(payload, QdrantSchema.IndexedAt)));

    private static Passage ToPassage(PointId id, MapField<string, Value> payload) => new()
    {
        Id = id.Uuid,
        DocumentId = String(payload, QdrantSchema.DocumentId),
        Source = String(payload, QdrantSchema.Source),
        Title = payload.TryGetValue(QdrantSchema.Title, out var title) ? title.StringValue : null,
        SectionPath = payload.TryGetValue(QdrantSchema.Section, out var section) ? section.StringValue : null,
        Page = payload.TryGetValue(QdrantSchema.Page, out var page) ? (int)page.IntegerValue : null,
        Start = (int)Integer(payload, QdrantSchema.Start),
        Length = (int)Integer(payload, QdrantSchema.Length),
        ChunkIndex = (int)Integer(payload, QdrantSchema.Chunk),
        Text = String(payload, QdrantSchema.Text),
        ContentHash = String(payload, QdrantSchema.ContentHash),
        TokenCount = (int)Integer(payload, QdrantSchema.TokenCount),
        Tags = payload.TryGetValue(QdrantSchema.Tags, out var tags) && tags.StructValue is { } map
            ? map.Fields.ToDictionary(f => f.Key, f => f.Value.StringValue, StringComparer.Ordinal)
            : new Dictionary<string, string>(),
        IndexedAt = DateTimeOffset.FromUnixTimeMilliseconds(Integer(payload, QdrantSchema.IndexedAt)),
        Kind = String(payload, QdrantSchema.PassageContent) == QdrantSchema.ImagePassage ? PassageKind.Image : PassageKind.Text,
        Image = payload.TryGetValue(QdrantSchema.ImageType, out var type) && payload.TryGetValue(QdrantSchema.Image, out var data)
            ? new PassageImage(type.StringValue, Convert.FromBase64String(data.StringValue))
            : null,
        Fields = payload.TryGetValue(QdrantSchema.Fields, out var fields) && fields.StructValue is { } values
            ? values.Fields.ToDictionary(f => f.Key, f => FromValue(f.Value), StringComparer.Ordinal)
            : new Dictionary<string, object?>(),
    };

    /// <summary>The passage ids that are UUIDs, by point id (an id that is not one cannot be a point id, so no such passage exists).</summary>
    private static Dictionary<Guid, string> PointIds(IEnumerable<string> passageIds)
    {
        var ids = new Dictionary<Guid, string>();
        foreach (string id in passageIds)
        {
            if (Guid.TryParse(id, out var guid))
            {
                ids.TryAdd(guid, id);
            }
        }

        return ids;
    }

    private WithVectorsSelector VectorsSelector(bool includeVectors) => includeVectors
        ? new WithVectorsSelector { Include = new VectorsSelector { Names = { QdrantSchema.DenseVector } } }
        : new WithVectorsSelector { Enable = false };

    private static StoredPassage ToStored(PointId id, MapField<string, Value> payload, VectorsOutput? vectors, bool includeVectors) => new(
        ToPassage(id, payload),
        includeVectors && vectors?.Vectors?.Vectors is { } named && named.TryGetValue(QdrantSchema.DenseVector, out var vector) && vector.GetDenseVector() is { } dense
            ? dense.Data.ToArray()
            : ReadOnlyMemory<float>.Empty);

    /// <summary>A field's value as a payload value (<see cref="Fields.PassageFields"/>' types; a list element by element).</summary>
    private static Value ToValue(object? value) => value switch
    {
        null => new Value { NullValue = NullValue.NullValue },
        string text => text,
        long whole => whole,
        double number => number,
        bool flag => flag,
        System.Collections.IEnumerable list => new Value { ListValue = new ListValue { Values = { list.Cast<object?>().Select(ToValue) } } },
        _ => throw new ArgumentException($"a passage field holds a {value.GetType().Name}, which the Qdrant store does not keep."),
    };

    private static object? FromValue(Value value) => value.KindCase switch
    {
        Value.KindOneofCase.StringValue => value.StringValue,
        Value.KindOneofCase.IntegerValue => value.IntegerValue,
        Value.KindOneofCase.DoubleValue => value.DoubleValue,
        Value.KindOneofCase.BoolValue => value.BoolValue,
        Value.KindOneofCase.ListValue => value.ListValue.Values.Select(FromValue).ToList(),
        _ => null,
    };

    private static string String(MapField<string, Value> payload, string key) =>
        payload.TryGetValue(key, out var value) ? value.StringValue : string.Empty;

    /// <summary>An integer field; Qdrant may hand whole numbers back as doubles (e.g. after JSON round trips), so both are read.</summary>
    private static long Integer(MapField<string, Value> payload, string key) =>
        !payload.TryGetValue(key, out var value) ? 0
        : value.KindCase == Value.KindOneofCase.DoubleValue ? (long)value.DoubleValue
        : value.IntegerValue;
}
