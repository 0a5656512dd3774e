using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using T5Gemma2.Rag.Answering;

namespace T5Gemma2.Rag.Server.Problems;

/// <summary>
/// What an exception that left an endpoint becomes: the project's failures by their <see cref="FailureKind"/> (a
/// collection of another model is 409, a store that is down 503 with Retry-After, a disk that is full 507, a chat model that failed 502), a
/// cancelled request nothing, anything else a 500 that says only that it is a bug (the details go to the log).
/// </summary>
internal sealed partial class FailureExceptionHandler(ILogger<FailureExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is OperationCanceledException && httpContext.RequestAborted.IsCancellationRequested)
        {
            return true;
        }

        if (exception is BadHttpRequestException bad)
        {
            await ProblemResponses.WriteAsync(httpContext, bad.StatusCode, bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "Payload too large" : "Bad request", bad.Message).ConfigureAwait(false);
            return true;
        }

        if (exception is T5RagException failure)
        {
            var (status, title) = failure.Kind switch
            {
                FailureKind.ModelMismatch => (StatusCodes.Status409Conflict, "Conflict"),
                FailureKind.NoPassages => (StatusCodes.Status422UnprocessableEntity, "Nothing to answer from"),
                FailureKind.StoreUnavailable => (StatusCodes.Status503ServiceUnavailable, "Service unavailable"),
                FailureKind.StoreWriteFailed => (StatusCodes.Status507InsufficientStorage, "Store write failed"),
                FailureKind.AnswererUnavailable => (StatusCodes.Status502BadGateway, "Answerer unavailable"),
                FailureKind.InputFile or FailureKind.Usage => (StatusCodes.Status400BadRequest, "Bad request"),
                _ => (StatusCodes.Status500InternalServerError, "Server fault"),
            };
            // The caller gets the message; the log has the operator's detail too (a chat model's address and its words).
            Log.Failed(logger, httpContext.Request.Method, httpContext.Request.Path, status, failure is AnswererUnavailableException chat ? chat.ForOperator : failure.Message);
            if (status == StatusCodes.Status503ServiceUnavailable)
            {
                httpContext.Response.Headers.RetryAfter = "5";
            }

            await ProblemResponses.WriteAsync(httpContext, status, title, failure.Message).ConfigureAwait(false);
            return true;
        }

        Log.Bug(logger, httpContext.Request.Method, httpContext.Request.Path, exception);
        await ProblemResponses.WriteAsync(httpContext, StatusCodes.Status500InternalServerError, "Internal error", $"an unexpected {exception.GetType().Name} inside t5rag (a bug; the server log has the details).").ConfigureAwait(false);
        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "{Method} {Path}: {Status} {Message}")]
        public static partial void Failed(ILogger logger, string method, string path, int status, string message);

        [LoggerMessage(2, LogLevel.Error, "{Method} {Path}: unexpected failure")]
        public static partial void Bug(ILogger logger, string method, string path, Exception exception);
    }
}
