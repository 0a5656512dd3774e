using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using T5Gemma2.Rag.Server.Hosting;

namespace T5Gemma2.Rag.Server.Jobs;

/// <summary>Registers the ingestion jobs: their store, the upload staging, the in-process news, and (where this replica ingests) the worker.</summary>
internal static class IngestJobServices
{
    public static void Add(IServiceCollection services)
    {
        services.AddSingleton<IngestJobStore>();
        services.AddSingleton<UploadStaging>();
        services.AddSingleton<IngestJobEvents>();

        // A --no-ingest replica runs no worker: its jobs endpoints read what the ingesting replica writes.
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<KnowledgeBaseServerOptions>().Ingest
            ? ActivatorUtilities.CreateInstance<IngestJobWorker>(sp)
            : new NoWorker());
    }

    /// <summary>What a read replica runs in place of the worker: nothing.</summary>
    private sealed class NoWorker : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
