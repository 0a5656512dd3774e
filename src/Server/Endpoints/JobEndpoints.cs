using Microsoft.AspNetCore.Routing;

namespace T5Gemma2.Rag.Server.Endpoints;

/// <summary><c>/api/jobs/{id}</c> (placeholder until the ingestion jobs land).</summary>
internal static class JobEndpoints
{
    public static void Map(IEndpointRouteBuilder api)
    {
        _ = api;
    }
}
