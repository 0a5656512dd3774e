using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using T5Gemma2.Rag.Encoder;
using T5Gemma2.Rag.Server.Security;

namespace T5Gemma2.Rag.Server.Telemetry;

/// <summary>
/// The service's OpenTelemetry: metrics always (ours, ASP.NET Core's per-route request counts and durations, the
/// runtime's) behind the Prometheus scrape endpoint <see cref="MetricsPath"/>; traces (our spans under ASP.NET
/// Core's request span) and an OTLP export of traces, metrics and logs only when <see cref="OtlpEndpointVariable"/>
/// names a collector, so a server nobody traces creates no spans.
/// </summary>
internal static class ServerTelemetry
{
    public const string MetricsPath = "/metrics";

    /// <summary>OpenTelemetry's standard variable (OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_SERVICE_NAME and the rest are read by the exporter itself).</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>Who may scrape: an admin key, or the keyless local operator (who is admin while no key exists).</summary>
    public const string MetricsPolicy = "t5rag-metrics";

    /// <summary>The runtime's own meter (GC, thread pool, exceptions), built into .NET 9 and later.</summary>
    private const string RuntimeMeter = "System.Runtime";

    public static void Add(IServiceCollection services, IConfiguration configuration)
    {
        services.AddAuthorizationBuilder().AddPolicy(MetricsPolicy, policy => policy
            .AddAuthenticationSchemes(ApiKeyAuthenticationHandler.SchemeName)
            .RequireAuthenticatedUser()
            .RequireClaim(Caller.RoleClaim, nameof(ApiKeyRole.Admin)));

        var telemetry = services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(T5RagTelemetry.Name, RuntimeMeter)
            .AddAspNetCoreInstrumentation()
            .AddInstrumentation(sp => ActivatorUtilities.CreateInstance<IngestQueueGauge>(sp))

            // Every scrape reads the instruments afresh: scrapes are an admin's, not a crowd's, so nothing needs caching.
            .AddPrometheusExporter(prometheus => prometheus.ScrapeResponseCacheDurationMilliseconds = 0));

        if (!string.IsNullOrWhiteSpace(configuration[OtlpEndpointVariable]))
        {
            telemetry.WithTracing(tracing => tracing.AddSource(T5RagTelemetry.Name).AddAspNetCoreInstrumentation()).UseOtlpExporter();
        }
    }

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapPrometheusScrapingEndpoint(MetricsPath).RequireAuthorization(MetricsPolicy).WithName("Metrics").ExcludeFromDescription();
}
