using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Scalar.AspNetCore;
using T5Gemma2.Rag.Server.Collections;
using T5Gemma2.Rag.Server.Data;
using T5Gemma2.Rag.Server.Endpoints;
using T5Gemma2.Rag.Server.Jobs;
using T5Gemma2.Rag.Server.Mcp;
using T5Gemma2.Rag.Server.OpenAi;
using T5Gemma2.Rag.Server.Problems;
using T5Gemma2.Rag.Server.Security;
using T5Gemma2.Rag.Server.Web;
using T5Gemma2.Rag.Server.Telemetry;

namespace T5Gemma2.Rag.Server.Hosting;

/// <summary>
/// Builds and runs the knowledge-base service: the same stores, retriever, answerer and ingest pipeline as the CLI,
/// behind the HTTP API (<c>/api</c>), the OpenAI-compatible endpoints (<c>/v1</c>), MCP (<c>/mcp</c>), API keys, rate
/// limits and problem details. <c>t5rag serve</c> and the server's own <see cref="Program"/> both come through here.
/// </summary>
public static class KnowledgeBaseServer
{
    /// <summary>The rate-limiting policy every API endpoint is under.</summary>
    public const string PerKeyPolicy = "per-key";

    /// <summary>A builder with every service registered; <paramref name="configure"/> adjusts the options bound from configuration.</summary>
    public static WebApplicationBuilder CreateBuilder(string[] args, Action<KnowledgeBaseServerOptions>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddKnowledgeBaseServer(builder.Configuration, configure);

        // Kestrel's own cap sits above the largest upload; each endpoint enforces its own, smaller limit with a 413 that says which.
        var limits = builder.Configuration.GetSection(KnowledgeBaseServerOptions.SectionName).Get<KnowledgeBaseServerOptions>() ?? new KnowledgeBaseServerOptions();
        configure?.Invoke(limits);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = Math.Max(limits.MaxUploadBytes, limits.MaxRequestBytes) + (1 << 20));
        return builder;
    }

    /// <summary>Registers the service: options, service database, keys, collections, jobs, authentication, rate limits, OpenAPI, MCP.</summary>
    public static IServiceCollection AddKnowledgeBaseServer(this IServiceCollection services, IConfiguration configuration, Action<KnowledgeBaseServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        // Bound when first resolved, so a test host's configuration (or its own registration of the options) counts.
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IConfiguration>().GetSection(KnowledgeBaseServerOptions.SectionName).Get<KnowledgeBaseServerOptions>() ?? new KnowledgeBaseServerOptions();
            configure?.Invoke(options);
            options.Validate();
            return options;
        });
        services.AddSingleton(sp => ServiceDatabase.Open(sp.GetRequiredService<KnowledgeBaseServerOptions>().ResolveServiceDatabase()));
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<LocalAccess>();
        services.AddSingleton(sp => new KnowledgeBaseCollections(sp.GetRequiredService<KnowledgeBaseServerOptions>(), sp.GetRequiredService<ILoggerFactory>()));

        services.AddProblemDetails();
        services.AddExceptionHandler<FailureExceptionHandler>();
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower);
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder(ApiKeyAuthenticationHandler.SchemeName).RequireAuthenticatedUser().Build());
        services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(PerKeyPolicy, context => RateLimitPartition.GetTokenBucketLimiter(
                context.User.Identity?.Name ?? context.Connection.RemoteIpAddress?.ToString() ?? "anonymous",
                _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = Options(context).BurstPerKey,
                    TokensPerPeriod = Options(context).RequestsPerSecondPerKey,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                }));
            limiter.OnRejected = async (rejected, _) =>
            {
                int seconds = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)) : 1;
                rejected.HttpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await ProblemResponses.WriteAsync(rejected.HttpContext, StatusCodes.Status429TooManyRequests, "Too many requests", $"API key '{rejected.HttpContext.User.Identity?.Name}' is over its rate of {Options(rejected.HttpContext).RequestsPerSecondPerKey} requests a second; retry after {seconds} s.").ConfigureAwait(false);
            };
        });
        services.AddOpenApi();
        IngestJobServices.Add(services);
        OpenAiEndpoints.Add(services);
        McpHttpEndpoints.Add(services);
        ServerTelemetry.Add(services, configuration);
        return services;
    }

    /// <summary>The middleware (the request log outermost, so it sees the status the exception handler sets) and every endpoint.</summary>
    public static WebApplication UseKnowledgeBaseServer(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseMiddleware<RequestLogging>();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.MapKnowledgeBase();
        return app;
    }

    /// <summary>Every endpoint: health, the API under <c>/api</c>, OpenAI under <c>/v1</c>, MCP at <c>/mcp</c>, <c>/metrics</c>, the OpenAPI document and its reference page, the web page at <c>/</c>.</summary>
    public static IEndpointRouteBuilder MapKnowledgeBase(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        HealthEndpoints.Map(app);
        app.MapOpenApi().AllowAnonymous();
        app.MapScalarApiReference(reference => reference.WithTitle("t5rag knowledge base API")).AllowAnonymous();

        var api = app.MapGroup("/api").RequireRateLimiting(PerKeyPolicy).WithTags("Knowledge base");
        CollectionEndpoints.Map(api);
        SearchEndpoints.Map(api);
        AskEndpoints.Map(api);
        DocumentEndpoints.Map(api);
        JobEndpoints.Map(api);
        KeyEndpoints.Map(api);
        OpenAiEndpoints.Map(app);
        McpHttpEndpoints.Map(app);
        WebPageEndpoints.Map(app);
        ServerTelemetry.Map(app);
        return app;
    }

    /// <summary>
    /// Loads the models and opens the store, starts listening, refuses to listen beyond loopback while no API key
    /// exists, then serves until <paramref name="cancellationToken"/> fires or the host is told to stop.
    /// </summary>
    /// <exception cref="ServerStartupException">An address beyond loopback with no API key.</exception>
    public static async Task RunAsync(WebApplication app, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.Services.GetRequiredService<KnowledgeBaseCollections>().Load();
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        if (addresses.FirstOrDefault(a => !IsLoopbackAddress(a)) is not { } open)
        {
            // Loopback alone: the local operator may call without a key while none exists. Beyond loopback nobody ever
            // may, even once every key is revoked.
            app.Services.GetRequiredService<LocalAccess>().ListeningOnLoopbackOnly();
            await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        if (!app.Services.GetRequiredService<ApiKeyStore>().AnyActive())
        {
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            throw new ServerStartupException($"refusing to listen on {open} without an API key: create one first (t5rag keys create --name <label> --collections '*' --role admin), or listen on loopback (--urls http://127.0.0.1:8080).");
        }

        await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
    }

    private static KnowledgeBaseServerOptions Options(HttpContext context) => context.RequestServices.GetRequiredService<KnowledgeBaseServerOptions>();

    /// <summary>Whether a listening address (<c>http://127.0.0.1:8080</c>, <c>http://[::]:80</c>, <c>http://+:80</c>) is on loopback only.</summary>
    internal static bool IsLoopbackAddress(string address)
    {
        if (!Uri.TryCreate(address.Replace("://+", "://any", StringComparison.Ordinal).Replace("://*", "://any", StringComparison.Ordinal), UriKind.Absolute, out var uri))
        {
            return false;
        }

        return uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
    }
}
