using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using T5Gemma2.Rag.Server.Collections;
using T5Gemma2.Rag.Server.Hosting;
using T5Gemma2.Rag.Server.Security;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>
/// The knowledge-base service in process (WebApplicationFactory over the server's own Program), over a temporary
/// embedded store and service database, with the real MiniLM model unless told otherwise.
/// </summary>
internal sealed class KnowledgeBaseServerFactory : WebApplicationFactory<T5Gemma2.Rag.Server.Program>
{
    private readonly TempDirectory? _temp;

    /// <param name="configure">Adjusts the options (generator, limits) after the store and model are set.</param>
    /// <param name="store">The store directory; null: a new temporary one, removed with the factory.</param>
    public KnowledgeBaseServerFactory(Action<KnowledgeBaseServerOptions>? configure = null, string? store = null)
    {
        if (store is null)
        {
            this._temp = new TempDirectory();
            store = this._temp.Combine("store");
        }

        this.Options = new KnowledgeBaseServerOptions { Store = store, EmbeddingModelDirectory = TestAssets.MiniLmDirectory };
        configure?.Invoke(this.Options);
        this.Options.Validate();
    }

    public KnowledgeBaseServerOptions Options { get; }

    /// <summary>Receives every log record at every level, beside the usual warnings-only logging; null: none.</summary>
    public ILoggerProvider? Logs { get; init; }

    /// <summary>Host settings, as environment variables would give them (OTEL_EXPORTER_OTLP_ENDPOINT).</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    /// <summary>The service's API keys, for a test to create keys as <c>t5rag keys create</c> would.</summary>
    public ApiKeyStore Keys => this.Services.GetRequiredService<ApiKeyStore>();


    public KnowledgeBaseCollections Collections => this.Services.GetRequiredService<KnowledgeBaseCollections>();

    /// <summary>A client that sends <paramref name="key"/> as its bearer token (none: no Authorization header).</summary>
    public HttpClient ClientWithKey(string? key)
    {
        var client = this.CreateClient();
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return client;
    }

    /// <summary>Creates a key and returns it.</summary>
    public string CreateKey(string name, ApiKeyRole role, params string[] collections) => this.Keys.Create(name, role, collections).Key;

    protected override IHost CreateHost(IHostBuilder builder)
    {
        var host = base.CreateHost(builder);

        // What KnowledgeBaseServer.RunAsync decides for a server that listens on loopback alone: the test host is in process.
        host.Services.GetRequiredService<LocalAccess>().ListeningOnLoopbackOnly();
        return host;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.ConfigureLogging(logging =>
        {
            logging.SetMinimumLevel(LogLevel.Warning);
            if (this.Logs is not null)
            {
                logging.ClearProviders().AddProvider(this.Logs).SetMinimumLevel(LogLevel.Trace);
            }
        });
        foreach (var (key, value) in this.Settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureServices(services => services.AddSingleton(this.Options));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            this._temp?.Dispose();
        }
    }
}
