using System.Globalization;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;
using Qdrant.Client;

namespace T5Gemma2.Rag.Indexer.Stores.Qdrant;

/// <summary>
/// Every call to Qdrant goes through here: transient gRPC failures (unavailable, deadline exceeded, resource
/// exhausted, aborted) are retried with exponential backoff and jitter (Polly), and what still fails becomes a
/// one-line <see cref="StoreException"/>: a refused API key, an unreachable server (with the compose file to start
/// one), or Qdrant's own message. Every write this store sends is idempotent (upserts by id, deletes by id or filter),
/// so retrying one that may have reached the server is safe.
/// </summary>
public sealed class QdrantRetryPolicy
{
    private static readonly ResiliencePropertyKey<string> s_operation = new("t5rag.qdrant.operation");

    private readonly ResiliencePipeline _pipeline;
    private readonly ILogger _logger;
    private readonly TimeSpan _requestTimeout;

    /// <param name="endpoint">Named in messages.</param>
    /// <param name="options">Attempts and delays (<see cref="QdrantStoreOptions.MaxRetryAttempts"/>, <see cref="QdrantStoreOptions.RetryBaseDelay"/>, <see cref="QdrantStoreOptions.RetryMaxDelay"/>).</param>
    /// <param name="logger">Each retry is logged as a warning.</param>
    public QdrantRetryPolicy(Uri endpoint, QdrantStoreOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(options);
        this.Endpoint = endpoint;
        this._requestTimeout = options.RequestTimeout;
        this._logger = logger ?? NullLogger.Instance;
        int maxAttempts = options.MaxRetryAttempts;
        var builder = new ResiliencePipelineBuilder();
        if (maxAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<RpcException>(ex => IsTransient(ex.StatusCode)),
                MaxRetryAttempts = maxAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.RetryMaxDelay,
                OnRetry = arguments =>
                {
                    if (arguments.Outcome.Exception is RpcException ex)
                    {
                        string operation = arguments.Context.Properties.GetValue(s_operation, "call");
                        this._logger.Retrying(operation, this.Endpoint, ex.StatusCode, Detail(ex), arguments.AttemptNumber + 1, maxAttempts, arguments.RetryDelay.TotalMilliseconds);
                    }

                    return ValueTask.CompletedTask;
                },
            });
        }

        this._pipeline = builder.Build();
    }

    /// <summary>The server, as messages name it.</summary>
    public Uri Endpoint { get; }

    /// <summary>Whether a call failing with <paramref name="status"/> may succeed if simply tried again.</summary>
    public static bool IsTransient(StatusCode status) =>
        status is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.ResourceExhausted or StatusCode.Aborted;

    /// <summary>Runs <paramref name="call"/> with retries; failures come out as <see cref="StoreException"/>.</summary>
    /// <param name="operation">What the call does, for logs and messages ("upsert into kb").</param>
    public async Task<T> ExecuteAsync<T>(string operation, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        var context = ResilienceContextPool.Shared.Get(operation, cancellationToken);
        context.Properties.Set(s_operation, operation);
        try
        {
            return await this._pipeline.ExecuteAsync(
                static async (ctx, state) => await state(ctx.CancellationToken).ConfigureAwait(false),
                context,
                call).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(ex.Message, ex, cancellationToken);
        }
        catch (RpcException ex)
        {
            throw this.Translate(ex, operation);
        }
        catch (QdrantException ex)
        {
            throw new StoreException($"Qdrant at {this.Endpoint}: {operation} failed ({FirstLine(ex.Message)}).", ex);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>Runs <paramref name="call"/> with retries; failures come out as <see cref="StoreException"/>.</summary>
    public Task ExecuteAsync(string operation, Func<CancellationToken, Task> call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        return this.ExecuteAsync(operation, async token =>
        {
            await call(token).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// The one-line error for a call that failed for good. Only a server that is absent, slow, overloaded or refusing
    /// the key is <see cref="StoreException.ServiceUnavailable"/>; Qdrant refusing the request (a collection gone, a
    /// vector of the wrong size) is not, since asking again cannot help.
    /// </summary>
    internal StoreException Translate(RpcException ex, string operation)
    {
        if (ex.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied)
        {
            return new StoreException($"Qdrant at {this.Endpoint} refused the API key ({Detail(ex)}); set {QdrantStoreLocation.ApiKeyVariable} (or \"qdrant\": {{ \"apiKey\" }} in t5rag.json) to the server's key.", ex) { ServiceUnavailable = true };
        }

        if (ex.StatusCode == StatusCode.DeadlineExceeded)
        {
            // The server was reached (a refused or dropped connection is Unavailable): "is it running?" would mislead.
            // A deadline the client enforced has no detail; Qdrant's own timeouts say what timed out.
            string seconds = this._requestTimeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
            string detail = string.IsNullOrWhiteSpace(ex.Status.Detail) ? string.Empty : $": {Detail(ex)}";
            return new StoreException($"Qdrant at {this.Endpoint} did not answer {operation} within {seconds} s ({ex.StatusCode}{detail}); it may be overloaded or optimizing: try again later.", ex) { ServiceUnavailable = true };
        }

        if (IsTransient(ex.StatusCode))
        {
            string hint = this.Endpoint.Port == 6333 ? " Port 6333 is Qdrant's REST port; t5rag speaks gRPC, on 6334." : string.Empty;
            return new StoreException($"cannot reach Qdrant at {this.Endpoint} ({ex.StatusCode}: {Detail(ex)}); is it running? (compose/docker-compose.yml){hint}", ex) { ServiceUnavailable = true };
        }

        bool refused = ex.StatusCode is StatusCode.InvalidArgument or StatusCode.NotFound or StatusCode.AlreadyExists or StatusCode.FailedPrecondition or StatusCode.OutOfRange;
        return new StoreException($"Qdrant at {this.Endpoint}: {operation} failed ({ex.StatusCode}: {Detail(ex)}).", ex) { ServiceUnavailable = !refused };
    }

    /// <summary>Qdrant's or gRPC's message, with the socket-level cause when there is one ("Connection refused").</summary>
    private static string Detail(RpcException ex)
    {
        string detail = FirstLine(string.IsNullOrWhiteSpace(ex.Status.Detail) ? ex.Message : ex.Status.Detail);
        var cause = ex.Status.DebugException;
        while (cause?.InnerException is not null)
        {
            cause = cause.InnerException;
        }

        string? root = cause is null ? null : FirstLine(cause.Message);
        return root is { Length: > 0 } && !detail.Contains(root, StringComparison.Ordinal) ? $"{detail.TrimEnd('.')}: {root}" : detail;
    }

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();
}
