using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Indexer.Stores.Qdrant;

namespace T5Gemma2.Rag.Tests.Stores;

/// <summary>
/// Transient gRPC failures are retried with backoff, then reported in one line; a refused key is reported at once.
/// Real sockets stand in for a broken server: one that accepts and hangs up, and a port where nothing listens.
/// </summary>
public sealed class QdrantRetryPolicyTests
{
    private static readonly QdrantStoreOptions s_fast = QdrantStoreOptions.For(new Uri("http://127.0.0.1:6334")) with
    {
        MaxRetryAttempts = 3,
        RetryBaseDelay = TimeSpan.FromMilliseconds(5),
        RetryMaxDelay = TimeSpan.FromMilliseconds(20),
        ConnectTimeout = TimeSpan.FromSeconds(2),
        RequestTimeout = TimeSpan.FromSeconds(5),
    };

    [Fact]
    public async Task AServerThatHangsUpIsRetriedThenReportedAsUnreachable()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        int connections = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var server = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var client = await listener.AcceptTcpClientAsync(stop.Token);
                Interlocked.Increment(ref connections);
                client.Client.Close(); // accept, then hang up before any HTTP/2 frame
            }
        }, TestContext.Current.CancellationToken);

        var logs = new LogCollector();
        using var store = QdrantPassageStore.Connect(s_fast with { Endpoint = new Uri($"http://127.0.0.1:{port}") }, logs);
        var ex = await Assert.ThrowsAsync<StoreException>(() => store.ListCollectionsAsync(TestContext.Current.CancellationToken));
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => server);

        Assert.StartsWith($"cannot reach Qdrant at http://127.0.0.1:{port}/ (Unavailable: ", ex.Message, StringComparison.Ordinal);
        Assert.EndsWith("is it running? (compose/docker-compose.yml)", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
        var retries = logs.Retries.ToList();
        Assert.Equal(3, retries.Count);
        Assert.All(retries, e => Assert.Equal(LogLevel.Warning, e.Level));
        Assert.Contains("retry 3 of 3", retries[^1].Message, StringComparison.Ordinal);
        Assert.True(connections >= 4, $"{connections} connections for 4 attempts");
    }

    [Fact]
    public async Task APortWhereNothingListensIsUnreachableAfterTheRetries()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // the port is free again: connections are refused

        var logs = new LogCollector();
        using var store = QdrantPassageStore.Connect(s_fast with { Endpoint = new Uri($"http://127.0.0.1:{port}") }, logs);
        var ex = await Assert.ThrowsAsync<StoreException>(() => store.CheckHealthAsync(TestContext.Current.CancellationToken));
        Assert.Contains($"cannot reach Qdrant at http://127.0.0.1:{port}/", ex.Message, StringComparison.Ordinal);
        Assert.IsType<RpcException>(ex.InnerException);
        Assert.Equal(3, logs.Retries.Count());
    }

    [Theory]
    [InlineData(StatusCode.Unavailable)]
    [InlineData(StatusCode.DeadlineExceeded)]
    [InlineData(StatusCode.ResourceExhausted)]
    [InlineData(StatusCode.Aborted)]
    public async Task TransientFailuresAreRetriedUntilOneSucceeds(StatusCode status)
    {
        var logs = new LogCollector();
        var policy = new QdrantRetryPolicy(s_fast.Endpoint, s_fast, logs.CreateLogger("test"));
        int attempts = 0;
        string result = await policy.ExecuteAsync("upsert", _ => ++attempts < 3 ? throw new RpcException(new Status(status, "busy")) : Task.FromResult("done"), TestContext.Current.CancellationToken);
        Assert.Equal(("done", 3), (result, attempts));
        Assert.Equal(2, logs.Retries.Count(e => e.Message.Contains(status.ToString(), StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(StatusCode.Unauthenticated)]
    [InlineData(StatusCode.PermissionDenied)]
    public async Task ARefusedKeyIsReportedAtOnce(StatusCode status)
    {
        var policy = new QdrantRetryPolicy(s_fast.Endpoint, s_fast);
        int attempts = 0;
        var ex = await Assert.ThrowsAsync<StoreException>(() => policy.ExecuteAsync("list collections", _ =>
        {
            attempts++;
            return Task.FromException<int>(new RpcException(new Status(status, "Invalid api-key")));
        }, TestContext.Current.CancellationToken));
        Assert.Equal(1, attempts);
        Assert.StartsWith("Qdrant at http://127.0.0.1:6334/ refused the API key (Invalid api-key)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("QDRANT_API_KEY", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OtherFailuresAreNotRetriedAndKeepQdrantsMessage()
    {
        var policy = new QdrantRetryPolicy(s_fast.Endpoint, s_fast);
        int attempts = 0;
        var ex = await Assert.ThrowsAsync<StoreException>(() => policy.ExecuteAsync("upsert passages (kb)", _ =>
        {
            attempts++;
            return Task.FromException<int>(new RpcException(new Status(StatusCode.InvalidArgument, "Wrong input: Vector dimension error: expected dim: 8, got 9\nmore")));
        }, TestContext.Current.CancellationToken));
        Assert.Equal(1, attempts);
        Assert.Equal("Qdrant at http://127.0.0.1:6334/: upsert passages (kb) failed (InvalidArgument: Wrong input: Vector dimension error: expected dim: 8, got 9).", ex.Message);
    }

    [Fact]
    public async Task CancellationStopsRetryingAndStaysACancellation()
    {
        var policy = new QdrantRetryPolicy(s_fast.Endpoint, s_fast with { RetryBaseDelay = TimeSpan.FromSeconds(10), RetryMaxDelay = TimeSpan.FromSeconds(10) });
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var started = DateTime.UtcNow;
        var call = policy.ExecuteAsync("search", _ => Task.FromException<int>(new RpcException(new Status(StatusCode.Unavailable, "down"))), cancel.Token);
        await Task.Delay(50, TestContext.Current.CancellationToken);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
    }

    /// <summary>Keeps every log entry, for counting retries.</summary>
    private sealed class LogCollector : ILoggerFactory, ILogger
    {
        public ConcurrentQueue<(int EventId, LogLevel Level, string Message)> Entries { get; } = new();

        /// <summary>The store's retry warnings (event 3000), not the gRPC channel's own logs.</summary>
        public IEnumerable<(int EventId, LogLevel Level, string Message)> Retries => this.Entries.Where(e => e.EventId == 3000 && e.Message.StartsWith("Qdrant ", StringComparison.Ordinal));

        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            this.Entries.Enqueue((eventId.Id, logLevel, formatter(state, exception)));

        public void Dispose()
        {
        }
    }
}
