using System.Net;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using T5Gemma2.Rag.Indexer.Stores.Qdrant;

namespace T5Gemma2.Rag.Tests.Stores.QdrantFake;

/// <summary>
/// An in-process stand-in for a Qdrant server: Kestrel on a loopback port, plain HTTP/2 (h2c, as Qdrant's gRPC port
/// speaks it), serving Qdrant's Collections, Points and Qdrant services (<see cref="FakeQdrantService"/>). It records
/// every request as it arrived, so tests assert what the store sends, and replays scripted gRPC failures.
/// </summary>
internal sealed class FakeQdrantServer : IAsyncDisposable
{
    public const string Version = "1.19.0-fake";

    private readonly List<(string Method, IMessage Request, string? ApiKey)> _calls = [];
    private readonly Dictionary<string, Queue<FakeQdrantFault>> _faults = new(StringComparer.Ordinal);
    private WebApplication? _app;

    private FakeQdrantServer()
    {
    }

    /// <summary>The server's gRPC endpoint (http://127.0.0.1:port/).</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>The store location the CLI takes (qdrant://127.0.0.1:port).</summary>
    public string Location => $"qdrant://127.0.0.1:{this.Endpoint.Port}";

    /// <summary>Guards the collections, the call log and the faults.</summary>
    internal object Lock { get; } = new();

    /// <summary>The collections by name; hold <see cref="Lock"/> to touch them.</summary>
    internal Dictionary<string, FakeQdrantCollection> Collections { get; } = new(StringComparer.Ordinal);

    public static async Task<FakeQdrantServer> StartAsync(CancellationToken cancellationToken)
    {
        var server = new FakeQdrantServer();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(grpc => grpc.MaxReceiveMessageSize = 64 * 1024 * 1024);
        builder.Services.AddSingleton(new FakeQdrantService(server));
        builder.Services.AddSingleton<IServiceMethodProvider<FakeQdrantService>, FakeQdrantMethodProvider>();
        var app = builder.Build();
        app.MapGrpcService<FakeQdrantService>();
        await app.StartAsync(cancellationToken);
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        server._app = app;
        server.Endpoint = new Uri(address.TrimEnd('/') + "/");
        return server;
    }

    /// <summary>Store options for this server, with retries kept short so failing tests fail fast.</summary>
    public QdrantStoreOptions Options(Func<QdrantStoreOptions, QdrantStoreOptions>? configure = null)
    {
        var options = QdrantStoreOptions.For(this.Endpoint) with
        {
            MaxRetryAttempts = 3,
            RetryBaseDelay = TimeSpan.FromMilliseconds(5),
            RetryMaxDelay = TimeSpan.FromMilliseconds(20),
        };
        return configure is null ? options : configure(options);
    }

    public QdrantPassageStore Connect(Func<QdrantStoreOptions, QdrantStoreOptions>? configure = null) => QdrantPassageStore.Connect(this.Options(configure));

    /// <summary>
    /// The next <paramref name="times"/> calls of <paramref name="method"/> ("Points/Query", "Collections/Create" …)
    /// fail with <paramref name="status"/> and Qdrant's <paramref name="detail"/>; with <paramref name="hang"/> they
    /// answer only once the client's deadline has passed; with <paramref name="applied"/> the request takes effect
    /// first, as when the server's reply is lost.
    /// </summary>
    public void Fail(string method, StatusCode status, string detail, int times = 1, bool hang = false, bool applied = false)
    {
        lock (this.Lock)
        {
            if (!this._faults.TryGetValue(method, out var queue))
            {
                this._faults[method] = queue = new Queue<FakeQdrantFault>();
            }

            for (int i = 0; i < times; i++)
            {
                queue.Enqueue(new FakeQdrantFault(status, detail, hang, applied));
            }
        }
    }

    /// <summary>The requests of type <typeparamref name="T"/> that arrived, in order.</summary>
    public IReadOnlyList<T> Requests<T>()
        where T : IMessage
    {
        lock (this.Lock)
        {
            return [.. this._calls.Select(c => c.Request).OfType<T>()];
        }
    }

    /// <summary>The api-key header of each call, in order (null where none was sent).</summary>
    public IReadOnlyList<string?> ApiKeys()
    {
        lock (this.Lock)
        {
            return [.. this._calls.Select(c => c.ApiKey)];
        }
    }

    /// <summary>The methods called, in order ("Points/Upsert" …).</summary>
    public IReadOnlyList<string> Methods()
    {
        lock (this.Lock)
        {
            return [.. this._calls.Select(c => c.Method)];
        }
    }

    /// <summary>Adds a collection as another client would have made it (any layout, metadata included).</summary>
    public void AddCollection(global::Qdrant.Client.Grpc.CreateCollection create)
    {
        lock (this.Lock)
        {
            this.Collections[create.CollectionName] = new FakeQdrantCollection(create);
        }
    }

    /// <summary>Removes a collection behind the store's back, as another client would.</summary>
    public void RemoveCollection(string name)
    {
        lock (this.Lock)
        {
            this.Collections.Remove(name);
        }
    }

    /// <summary>Forgets the calls so far (the collections stay).</summary>
    public void ClearCalls()
    {
        lock (this.Lock)
        {
            this._calls.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (this._app is { } app)
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }
    }

    /// <summary>Logs a call; returns the fault queued for its method, if any.</summary>
    internal FakeQdrantFault? Record(string method, IMessage request, string? apiKey)
    {
        lock (this.Lock)
        {
            this._calls.Add((method, request, apiKey));
            return this._faults.TryGetValue(method, out var queue) && queue.Count > 0 ? queue.Dequeue() : null;
        }
    }
}
