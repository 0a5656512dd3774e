using Google.Protobuf.Collections;
using Grpc.Core;
using Qdrant.Client.Grpc;

namespace T5Gemma2.Rag.Tests.Stores.QdrantFake;

/// <summary>
/// One collection of the fake: its creation request, field indexes and points in memory. Search is brute force:
/// cosine over vectors normalized on upsert (as Qdrant does for cosine collections), sparse dot products weighted by
/// Qdrant's IDF, ln((N − n + 0.5) / (n + 0.5) + 1), and reciprocal rank fusion 1 / (k + position) over 0-based
/// positions. Not modelled: HNSW approximation, quantization (the parameters are recorded, the scores are exact),
/// shards and replicas, write ordering, and any condition or query kind t5rag does not send (refused, not ignored).
/// Callers hold the server's lock.
/// </summary>
internal sealed class FakeQdrantCollection
{
    private readonly SortedDictionary<Guid, FakePoint> _points = [];

    public FakeQdrantCollection(CreateCollection create)
    {
        this.Create = create.Clone();
        this.Hnsw = create.HnswConfig?.Clone() ?? new HnswConfigDiff { M = 16, EfConstruct = 100 };
    }

    /// <summary>The request that made the collection (as it arrived).</summary>
    public CreateCollection Create { get; }

    public HnswConfigDiff Hnsw { get; }

    public MapField<string, PayloadSchemaInfo> PayloadSchema { get; } = [];

    public int Count => this._points.Count;

    public CollectionInfo Info()
    {
        var parameters = new CollectionParams
        {
            ShardNumber = this.Create.ShardNumber,
            ReplicationFactor = this.Create.ReplicationFactor,
            WriteConsistencyFactor = this.Create.WriteConsistencyFactor,
            VectorsConfig = this.Create.VectorsConfig,
            SparseVectorsConfig = this.Create.SparseVectorsConfig,
        };
        var config = new CollectionConfig
        {
            Params = parameters,
            HnswConfig = this.Hnsw,
            OptimizerConfig = new OptimizersConfigDiff(),
            WalConfig = new WalConfigDiff(),
            Metadata = { this.Create.Metadata },
        };
        if (this.Create.QuantizationConfig is { } quantization)
        {
            config.QuantizationConfig = quantization;
        }

        return new CollectionInfo
        {
            Status = CollectionStatus.Green,
            OptimizerStatus = new OptimizerStatus { Ok = true },
            SegmentsCount = 1,
            PointsCount = (ulong)this._points.Count,
            Config = config,
            PayloadSchema = { this.PayloadSchema },
        };
    }

    public void Upsert(IEnumerable<PointStruct> points)
    {
        var parsed = points.Select(this.Parse).ToList();
        foreach (var point in parsed)
        {
            this._points[point.Id] = point;
        }
    }

    public void Delete(PointsSelector selector)
    {
        foreach (var id in this.Select(selector))
        {
            this._points.Remove(id);
        }
    }

    public void SetPayload(MapField<string, Value> payload, PointsSelector selector)
    {
        foreach (var id in this.Select(selector))
        {
            foreach (var (key, value) in payload)
            {
                this._points[id].Payload[key] = value.Clone();
            }
        }
    }

    public void Apply(PointsUpdateOperation operation)
    {
        switch (operation.OperationCase)
        {
            case PointsUpdateOperation.OperationOneofCase.DeletePoints:
                this.Delete(operation.DeletePoints.Points);
                break;
            case PointsUpdateOperation.OperationOneofCase.Upsert:
                this.Upsert(operation.Upsert.Points);
                break;
            case PointsUpdateOperation.OperationOneofCase.SetPayload:
                this.SetPayload(operation.SetPayload.Payload, operation.SetPayload.PointsSelector);
                break;
            default:
                throw new NotSupportedException($"the Qdrant fake does not model {operation.OperationCase} in a batch update");
        }
    }

    public IEnumerable<RetrievedPoint> Get(IEnumerable<PointId> ids, WithPayloadSelector? payload, WithVectorsSelector? vectors) =>
        ids.Select(id => Guid.Parse(id.Uuid)).Distinct().Where(this._points.ContainsKey).Select(id => this.Retrieved(this._points[id], payload, vectors));

    /// <summary>
    /// One page in id order from <paramref name="offset"/>, and the id that starts the next page (null at the end); with
    /// <paramref name="orderBy"/>, the first points in that field's order and no next page, and, as Qdrant does, refused
    /// unless the field has a range index (integer, float or datetime).
    /// </summary>
    public (List<RetrievedPoint> Page, PointId? Next) Scroll(Filter? filter, PointId? offset, int limit, WithPayloadSelector? payload, WithVectorsSelector? vectors, OrderBy? orderBy = null)
    {
        if (orderBy is not null)
        {
            if (!this.PayloadSchema.TryGetValue(orderBy.Key, out var index) || index.DataType is not (PayloadSchemaType.Integer or PayloadSchemaType.Float or PayloadSchemaType.Datetime))
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"Bad request: No range index for `order_by` key `{orderBy.Key}` found. Please create one to use `order_by`."));
            }

            var withField = this._points.Values.Where(p => FakeQdrantFilter.Matches(filter, p.Id, p.Payload) && FakeQdrantFilter.Lookup(p.Payload, orderBy.Key) is not null);
            var sorted = orderBy.Direction == Direction.Desc
                ? withField.OrderByDescending(p => FakeQdrantFilter.SortKey(p.Payload, orderBy.Key))
                : withField.OrderBy(p => FakeQdrantFilter.SortKey(p.Payload, orderBy.Key));
            return ([.. sorted.Take(limit).Select(p => this.Retrieved(p, payload, vectors))], null);
        }

        Guid start = offset is null ? Guid.Empty : Guid.Parse(offset.Uuid);
        var matching = this._points.Values.Where(p => p.Id.CompareTo(start) >= 0 && FakeQdrantFilter.Matches(filter, p.Id, p.Payload)).Take(limit + 1).ToList();
        var page = matching.Take(limit).Select(p => this.Retrieved(p, payload, vectors)).ToList();
        return (page, matching.Count > limit ? matching[limit].Id : null);
    }

    public ulong CountMatching(Filter? filter) => (ulong)this._points.Values.Count(p => FakeQdrantFilter.Matches(filter, p.Id, p.Payload));

    public List<ScoredPoint> Search(QueryPoints query)
    {
        int limit = query.HasLimit ? (int)query.Limit : 10;
        int offset = query.HasOffset ? (int)query.Offset : 0;
        List<(FakePoint Point, float Score)> ranked;
        if (query.Prefetch.Count > 0)
        {
            if (query.Query is not { VariantCase: Query.VariantOneofCase.Rrf or Query.VariantOneofCase.Fusion })
            {
                throw new NotSupportedException("the Qdrant fake models prefetches only under a fusion query");
            }

            // Qdrant's RRF: 1 / (k + position), positions from 0, k = 2 unless given.
            double k = query.Query.VariantCase == Query.VariantOneofCase.Rrf && query.Query.Rrf.HasK ? query.Query.Rrf.K : 2;
            var scores = new Dictionary<Guid, double>();
            foreach (var prefetch in query.Prefetch)
            {
                var ranking = this.Rank(prefetch.Query, prefetch.Using, FakeQdrantFilter.And(query.Filter, prefetch.Filter), prefetch.HasLimit ? (int)prefetch.Limit : 10);
                for (int position = 0; position < ranking.Count; position++)
                {
                    scores[ranking[position].Point.Id] = scores.GetValueOrDefault(ranking[position].Point.Id) + (1.0 / (k + position));
                }
            }

            ranked = [.. scores.OrderByDescending(s => s.Value).ThenBy(s => s.Key).Select(s => (this._points[s.Key], (float)s.Value))];
        }
        else
        {
            ranked = this.Rank(query.Query, query.Using, query.Filter, offset + limit);
        }

        return [.. ranked.Skip(offset).Take(limit).Select(r => new ScoredPoint { Id = r.Point.Id, Score = r.Score, Version = 1, Payload = { Payload(r.Point, query.WithPayload) } })];
    }

    private List<(FakePoint Point, float Score)> Rank(Query? query, string? vectorName, Filter? filter, int limit)
    {
        if (query is not { VariantCase: Query.VariantOneofCase.Nearest })
        {
            throw new NotSupportedException($"the Qdrant fake models only nearest queries, not {query?.VariantCase}");
        }

        string name = vectorName ?? string.Empty;
        var candidates = this._points.Values.Where(p => FakeQdrantFilter.Matches(filter, p.Id, p.Payload));
        IEnumerable<(FakePoint Point, float Score)> scored;
        switch (query.Nearest.VariantCase)
        {
            case VectorInput.VariantOneofCase.Dense:
                var dense = this.DenseParams(name).Size;
                float[] q = [.. query.Nearest.Dense.Data];
                if ((ulong)q.Length != dense)
                {
                    throw DimensionError(dense, q.Length);
                }

                float[] unit = Normalize(q);
                scored = candidates.Where(p => p.Dense.ContainsKey(name)).Select(p => (p, Dot(p.Dense[name], unit)));
                break;
            case VectorInput.VariantOneofCase.Sparse:
                this.SparseParams(name);
                var sparse = query.Nearest.Sparse;
                var withVector = this._points.Values.Where(p => p.Sparse.ContainsKey(name)).ToList();
                bool idf = this.Create.SparseVectorsConfig.Map[name].Modifier == Modifier.Idf;
                var weights = new Dictionary<uint, float>();
                for (int i = 0; i < sparse.Indices.Count; i++)
                {
                    int n = withVector.Count(p => p.Sparse[name].ContainsKey(sparse.Indices[i]));
                    weights[sparse.Indices[i]] = sparse.Values[i] * (idf ? (float)Math.Log(((withVector.Count - n + 0.5) / (n + 0.5)) + 1) : 1f);
                }

                scored = candidates.Where(p => p.Sparse.TryGetValue(name, out var v) && weights.Keys.Any(v.ContainsKey))
                    .Select(p => (p, weights.Sum(w => p.Sparse[name].GetValueOrDefault(w.Key) * w.Value)));
                break;
            default:
                throw new NotSupportedException($"the Qdrant fake models dense and sparse queries, not {query.Nearest.VariantCase}");
        }

        return [.. scored.OrderByDescending(s => s.Item2).ThenBy(s => s.Item1.Id).Take(limit)];
    }

    private FakePoint Parse(PointStruct point)
    {
        var parsed = new FakePoint(Guid.Parse(point.Id.Uuid), point.Payload.Clone());
        if (point.Vectors is null)
        {
            return parsed;
        }

        if (point.Vectors.VectorsOptionsCase != Vectors.VectorsOptionsOneofCase.Vectors_)
        {
            throw InvalidArgument("Wrong input: Not existing vector name error: ");
        }

        foreach (var (name, vector) in point.Vectors.Vectors_.Vectors)
        {
            if (this.Create.SparseVectorsConfig?.Map.ContainsKey(name) == true)
            {
#pragma warning disable CS0612 // the deprecated data/indices fields: what clients before 1.14 send, still accepted by Qdrant
                var (values, indices) = vector.VectorCase == Vector.VectorOneofCase.Sparse
                    ? (vector.Sparse.Values, vector.Sparse.Indices)
                    : (vector.Data, vector.Indices.Data);
#pragma warning restore CS0612
                parsed.Sparse[name] = indices.Zip(values).ToDictionary(p => p.First, p => p.Second);
                continue;
            }

            ulong size = this.DenseParams(name).Size;
#pragma warning disable CS0612 // as above
            float[] data = vector.VectorCase == Vector.VectorOneofCase.Dense ? [.. vector.Dense.Data] : [.. vector.Data];
#pragma warning restore CS0612
            if ((ulong)data.Length != size)
            {
                throw DimensionError(size, data.Length);
            }

            parsed.Dense[name] = Normalize(data);
        }

        return parsed;
    }

    private RetrievedPoint Retrieved(FakePoint point, WithPayloadSelector? payload, WithVectorsSelector? vectors)
    {
        var retrieved = new RetrievedPoint { Id = point.Id, Payload = { Payload(point, payload) } };
        var names = vectors switch
        {
            { SelectorOptionsCase: WithVectorsSelector.SelectorOptionsOneofCase.Enable, Enable: true } => point.Dense.Keys.ToList(),
            { SelectorOptionsCase: WithVectorsSelector.SelectorOptionsOneofCase.Include } => [.. vectors.Include.Names],
            _ => [],
        };
        if (names.Count > 0)
        {
            var output = new NamedVectorsOutput();
            foreach (string name in names.Where(point.Dense.ContainsKey))
            {
                output.Vectors[name] = new VectorOutput { Dense = new DenseVector { Data = { point.Dense[name] } } };
            }

            retrieved.Vectors = new VectorsOutput { Vectors = output };
        }

        return retrieved;
    }

    private static MapField<string, Value> Payload(FakePoint point, WithPayloadSelector? selector)
    {
        var payload = new MapField<string, Value>();
        foreach (var (key, value) in point.Payload)
        {
            bool wanted = selector switch
            {
                { SelectorOptionsCase: WithPayloadSelector.SelectorOptionsOneofCase.Enable } => selector.Enable,
                { SelectorOptionsCase: WithPayloadSelector.SelectorOptionsOneofCase.Include } => selector.Include.Fields.Contains(key),
                { SelectorOptionsCase: WithPayloadSelector.SelectorOptionsOneofCase.Exclude } => !selector.Exclude.Fields.Contains(key),
                _ => false,
            };
            if (wanted)
            {
                payload[key] = value.Clone();
            }
        }

        return payload;
    }

    private IEnumerable<Guid> Select(PointsSelector selector) => selector.PointsSelectorOneOfCase switch
    {
        PointsSelector.PointsSelectorOneOfOneofCase.Points => [.. selector.Points.Ids.Select(p => Guid.Parse(p.Uuid)).Where(this._points.ContainsKey)],
        PointsSelector.PointsSelectorOneOfOneofCase.Filter => [.. this._points.Values.Where(p => FakeQdrantFilter.Matches(selector.Filter, p.Id, p.Payload)).Select(p => p.Id)],
        _ => throw InvalidArgument("Wrong input: no points selector"),
    };

    private VectorParams DenseParams(string name) =>
        this.Create.VectorsConfig?.ParamsMap?.Map.TryGetValue(name, out var parameters) == true ? parameters : throw InvalidArgument($"Wrong input: Not existing vector name error: {name}");

    private SparseVectorParams SparseParams(string name) =>
        this.Create.SparseVectorsConfig?.Map.TryGetValue(name, out var parameters) == true ? parameters : throw InvalidArgument($"Wrong input: Not existing vector name error: {name}");

    // Qdrant's own wording for a vector of the wrong size.
    private static RpcException DimensionError(ulong expected, int got) => InvalidArgument($"Wrong input: Vector dimension error: expected dim: {expected}, got {got}");

    private static RpcException InvalidArgument(string detail) => new(new Status(StatusCode.InvalidArgument, detail));

    private static float[] Normalize(float[] v)
    {
        double norm = Math.Sqrt(v.Sum(x => (double)x * x));
        return norm == 0 ? v : [.. v.Select(x => (float)(x / norm))];
    }

    private static float Dot(float[] a, float[] b) => (float)a.Zip(b).Sum(p => (double)p.First * p.Second);

    private sealed record FakePoint(Guid Id, MapField<string, Value> Payload)
    {
        public Dictionary<string, float[]> Dense { get; } = [];

        public Dictionary<string, Dictionary<uint, float>> Sparse { get; } = [];
    }
}
