using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using T5Gemma2.Rag.Server.Collections;

namespace T5Gemma2.Rag.Server.Telemetry;

/// <summary>
/// One log line per request, once it has been answered: the request and trace ids, the method, the route's template
/// (never the path, which can hold document ids, nor the query), the status, the collection the route names, the
/// calling key's name (never the key) and the time taken. Bodies — documents, questions, answers — are never read.
/// Probes and scrapes (<c>/healthz</c>, <c>/readyz</c>, <c>/metrics</c>) log at Debug, the rest at Information.
/// </summary>
internal sealed class RequestLogging(RequestDelegate next, ILogger<RequestLogging> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        // Debug (the probes' level) is never on without Information: below Information, nothing to measure.
        if (!logger.IsEnabled(LogLevel.Information))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        long started = Stopwatch.GetTimestamp();

        // Taken before the pipeline runs: the exception handler clears the endpoint of a request that failed.
        string route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "(no route)";
        bool failed = true;
        try
        {
            await next(context).ConfigureAwait(false);
            failed = false;
        }
        finally
        {
            int status = failed && !context.Response.HasStarted ? StatusCodes.Status500InternalServerError : context.Response.StatusCode;
            var identity = context.User.Identity;
            string? key = identity?.IsAuthenticated == true ? identity.Name : null;
            double elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            string? trace = Activity.Current?.TraceId.ToString();
            if (route is "/healthz" or "/readyz" or ServerTelemetry.MetricsPath)
            {
                RequestLog.Probed(logger, context.Request.Method, route, status, elapsed, context.TraceIdentifier, trace);
            }
            else
            {
                RequestLog.Answered(logger, context.Request.Method, route, status, elapsed, context.TraceIdentifier, trace, key, Collection(context, route));
            }
        }
    }

    /// <summary>The collection the route names, when it is a valid name (anything else in its place is not logged).</summary>
    private static string? Collection(HttpContext context, string route)
    {
        object? value = context.GetRouteValue("collection")
            ?? (route.StartsWith("/api/collections/{name}", StringComparison.Ordinal) ? context.GetRouteValue("name") : null);
        return value is string name && CollectionNames.IsValid(name) ? name : null;
    }
}
