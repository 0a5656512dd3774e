using Microsoft.AspNetCore.Routing;

namespace T5Gemma2.Rag.Server.Endpoints;

/// <summary><c>/api/collections/{name}/documents</c> (placeholder until the ingestion jobs land).</summary>
internal static class DocumentEndpoints
{
    public static void Map(IEndpointRouteBuilder api)
    {
        _ = api;
    }
}
