using Microsoft.Extensions.Logging;

namespace T5Gemma2.Rag.Server.Telemetry;

/// <summary>Source-generated log messages of <see cref="RequestLogging"/> (event ids 6000–6099).</summary>
internal static partial class RequestLog
{
    [LoggerMessage(6000, LogLevel.Information, "{Method} {Route} {StatusCode} in {ElapsedMs:F1} ms (request {RequestId}, trace {TraceId}, key {KeyName}, collection {Collection})")]
    public static partial void Answered(ILogger logger, string method, string route, int statusCode, double elapsedMs, string requestId, string? traceId, string? keyName, string? collection);

    [LoggerMessage(6001, LogLevel.Debug, "{Method} {Route} {StatusCode} in {ElapsedMs:F1} ms (request {RequestId}, trace {TraceId})")]
    public static partial void Probed(ILogger logger, string method, string route, int statusCode, double elapsedMs, string requestId, string? traceId);
}
