using Microsoft.Extensions.DependencyInjection;

namespace T5Gemma2.Rag.Server.Jobs;

/// <summary>Registers the ingestion jobs (placeholder until they land).</summary>
internal static class IngestJobServices
{
    public static void Add(IServiceCollection services)
    {
        _ = services;
    }
}
