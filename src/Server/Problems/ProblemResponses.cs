using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace T5Gemma2.Rag.Server.Problems;

/// <summary>
/// Every refusal the API makes, as RFC 9457 problem details: a status, a short title, and a one-line detail that
/// names the field, file or collection and what was expected.
/// </summary>
public static class ProblemResponses
{
    /// <summary>400: the request cannot be used as it is; <paramref name="field"/> names the JSON field or form part.</summary>
    public static IResult BadRequest(string detail, string? field = null) => Problem(StatusCodes.Status400BadRequest, "Bad request", detail, field);

    /// <summary>404: no such collection, document or job (also for one the key may not see, so names do not leak).</summary>
    public static IResult NotFound(string detail) => Problem(StatusCodes.Status404NotFound, "Not found", detail);

    /// <summary>403: the key sees the collection but its role does not allow this.</summary>
    public static IResult Forbidden(string detail) => Problem(StatusCodes.Status403Forbidden, "Forbidden", detail);

    /// <summary>413: the body or upload is over its limit.</summary>
    public static IResult TooLarge(string detail) => Problem(StatusCodes.Status413PayloadTooLarge, "Payload too large", detail);

    /// <summary>415: a content type the endpoint does not take.</summary>
    public static IResult UnsupportedMediaType(string detail) => Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", detail);

    /// <summary>503 with Retry-After: the server cannot take this now (a full queue, a read-only replica, models loading).</summary>
    public static IResult Unavailable(string detail, int retryAfterSeconds) => new RetryAfterResult(Problem(StatusCodes.Status503ServiceUnavailable, "Service unavailable", detail), retryAfterSeconds);

    /// <summary>A problem of any status.</summary>
    public static IResult Problem(int status, string title, string detail, string? field = null) =>
        TypedResults.Problem(new ProblemDetails
        {
            Status = status,
            Title = title,
            Detail = detail,
            Extensions = field is null ? new Dictionary<string, object?>() : new Dictionary<string, object?> { ["field"] = field },
        });

    /// <summary>Writes a problem outside an endpoint (authentication, rate limiting, the exception handler).</summary>
    public static async Task WriteAsync(HttpContext context, int status, string title, string detail)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.StatusCode = status;
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        }).ConfigureAwait(false);
    }

    private sealed class RetryAfterResult(IResult inner, int seconds) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return inner.ExecuteAsync(httpContext);
        }
    }
}
