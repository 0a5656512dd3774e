using Google.Protobuf;
using Grpc.Core;
using Qdrant.Client.Grpc;

namespace T5Gemma2.Rag.Tests.Stores.QdrantFake;

/// <summary>
/// The fake's gRPC handlers: every call is recorded, then answered by a scripted fault if one is queued for its
/// method, else from the in-memory collections with Qdrant's statuses and wording (NotFound for a missing
/// collection, AlreadyExists on a second create, InvalidArgument for an unknown vector name or a wrong dimension).
/// A method the fake does not model answers Unimplemented, naming it.
/// </summary>
internal sealed class FakeQdrantService(FakeQdrantServer server)
{
    private static readonly UpdateResult s_completed = new() { Status = UpdateStatus.Completed, OperationId = 1 };

    public async Task<IMessage> HandleAsync(string method, IMessage request, ServerCallContext call)
    {
        var fault = server.Record(method, request, call.RequestHeaders.GetValue("api-key"));
        if (fault is { Applied: true })
        {
            lock (server.Lock)
            {
                this.Answer(method, request);
            }
        }

        if (fault is not null)
        {
            if (fault.Hang)
            {
                // Answers only when the client gives up (its deadline) or the server stops.
                await Task.Delay(Timeout.Infinite, call.CancellationToken).ConfigureAwait(false);
            }

            throw new RpcException(new Status(fault.Status, fault.Detail));
        }

        lock (server.Lock)
        {
            try
            {
                return this.Answer(method, request);
            }
            catch (NotSupportedException ex)
            {
                throw new RpcException(new Status(StatusCode.Unimplemented, $"{method}: {ex.Message}"));
            }
        }
    }

    private IMessage Answer(string method, IMessage request) => (method, request) switch
    {
        ("Qdrant/HealthCheck", _) => new HealthCheckReply { Title = "qdrant - vector search engine (fake)", Version = FakeQdrantServer.Version },
        ("Collections/List", _) => new ListCollectionsResponse { Collections = { server.Collections.Keys.Order(StringComparer.Ordinal).Select(n => new CollectionDescription { Name = n }) } },
        ("Collections/CollectionExists", CollectionExistsRequest r) => new CollectionExistsResponse { Result = new CollectionExists { Exists = server.Collections.ContainsKey(r.CollectionName) } },
        ("Collections/Get", GetCollectionInfoRequest r) => new GetCollectionInfoResponse { Result = this.Collection(r.CollectionName).Info() },
        ("Collections/Create", CreateCollection r) => this.Create(r),
        ("Collections/Update", UpdateCollection r) => this.Update(r),
        ("Collections/Delete", DeleteCollection r) => new CollectionOperationResponse { Result = server.Collections.Remove(r.CollectionName) },
        ("Points/CreateFieldIndex", CreateFieldIndexCollection r) => this.Index(r),
        ("Points/Upsert", UpsertPoints r) => Done(() => this.Collection(r.CollectionName).Upsert(r.Points)),
        ("Points/Delete", DeletePoints r) => Done(() => this.Collection(r.CollectionName).Delete(r.Points)),
        ("Points/SetPayload", SetPayloadPoints r) => Done(() => this.Collection(r.CollectionName).SetPayload(r.Payload, r.PointsSelector)),
        ("Points/UpdateBatch", UpdateBatchPoints r) => this.UpdateBatch(r),
        ("Points/Get", GetPoints r) => new GetResponse { Result = { this.Collection(r.CollectionName).Get(r.Ids, r.WithPayload, r.WithVectors) } },
        ("Points/Scroll", ScrollPoints r) => this.Scroll(r),
        ("Points/Count", CountPoints r) => new CountResponse { Result = new CountResult { Count = this.Collection(r.CollectionName).CountMatching(r.Filter) } },
        ("Points/Query", QueryPoints r) => new QueryResponse { Result = { this.Collection(r.CollectionName).Search(r) } },
        ("Points/QueryBatch", QueryBatchPoints r) => new QueryBatchResponse { Result = { r.QueryPoints.Select(q => new BatchResult { Result = { this.Collection(r.CollectionName).Search(q) } }) } },
        _ => throw new RpcException(new Status(StatusCode.Unimplemented, $"the Qdrant fake does not implement {method}")),
    };

    private FakeQdrantCollection Collection(string name) =>
        server.Collections.TryGetValue(name, out var collection) ? collection : throw new RpcException(new Status(StatusCode.NotFound, $"Not found: Collection `{name}` doesn't exist!"));

    private CollectionOperationResponse Create(CreateCollection request)
    {
        if (server.Collections.ContainsKey(request.CollectionName))
        {
            throw new RpcException(new Status(StatusCode.AlreadyExists, $"Wrong input: Collection `{request.CollectionName}` already exists!"));
        }

        server.Collections[request.CollectionName] = new FakeQdrantCollection(request);
        return new CollectionOperationResponse { Result = true };
    }

    private CollectionOperationResponse Update(UpdateCollection request)
    {
        var collection = this.Collection(request.CollectionName);
        if (request.HnswConfig is { HasM: true } hnsw)
        {
            collection.Hnsw.M = hnsw.M;
        }

        collection.Create.Metadata.Add(request.Metadata);
        return new CollectionOperationResponse { Result = true };
    }

    private PointsOperationResponse Index(CreateFieldIndexCollection request)
    {
        var collection = this.Collection(request.CollectionName);
        var info = new PayloadSchemaInfo { DataType = Enum.Parse<PayloadSchemaType>(request.FieldType.ToString()) };
        if (request.FieldIndexParams is { } parameters)
        {
            info.Params = parameters;
        }

        collection.PayloadSchema[request.FieldName] = info;
        return new PointsOperationResponse { Result = s_completed };
    }

    private UpdateBatchResponse UpdateBatch(UpdateBatchPoints request)
    {
        var collection = this.Collection(request.CollectionName);
        foreach (var operation in request.Operations)
        {
            collection.Apply(operation);
        }

        return new UpdateBatchResponse { Result = { request.Operations.Select(_ => s_completed) } };
    }

    private ScrollResponse Scroll(ScrollPoints request)
    {
        var (page, next) = this.Collection(request.CollectionName).Scroll(request.Filter, request.Offset, request.HasLimit ? (int)request.Limit : 10, request.WithPayload, request.WithVectors, request.OrderBy);
        var response = new ScrollResponse { Result = { page } };
        if (next is not null)
        {
            response.NextPageOffset = next;
        }

        return response;
    }

    private static PointsOperationResponse Done(Action action)
    {
        action();
        return new PointsOperationResponse { Result = s_completed };
    }
}
