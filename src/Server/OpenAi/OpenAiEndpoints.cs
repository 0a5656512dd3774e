using Microsoft.AspNetCore.Routing;

namespace T5Gemma2.Rag.Server.OpenAi;

/// <summary>The OpenAI-compatible endpoints under <c>/v1</c> (placeholder until they land).</summary>
internal static class OpenAiEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        _ = app;
    }
}
