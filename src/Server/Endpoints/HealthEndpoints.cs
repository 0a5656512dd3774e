using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using T5Gemma2.Rag.Server.Collections;
using T5Gemma2.Rag.Server.Problems;

namespace T5Gemma2.Rag.Server.Endpoints;

/// <summary><c>/healthz</c> (the process answers) and <c>/readyz</c> (models loaded, store open): the two a load balancer or compose asks, without a key.</summary>
internal static class HealthEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Text("ok")).AllowAnonymous().WithName("Health").WithSummary("The process is up");
        app.MapGet("/readyz", ReadyAsync).AllowAnonymous().WithName("Ready").WithSummary("Models loaded and the store open");
    }

    private static async Task<IResult> ReadyAsync(KnowledgeBaseCollections collections, HttpContext context)
    {
        if (!collections.IsReady)
        {
            return ProblemResponses.Unavailable("the models are loading.", 5);
        }

        try
        {
            // A round trip to the store, so a Qdrant that went away makes the replica unready rather than failing requests.
            _ = await collections.ListAsync(context.RequestAborted).ConfigureAwait(false);
            return TypedResults.Text("ready");
        }
        catch (T5RagException ex)
        {
            return ProblemResponses.Unavailable($"the store cannot be used: {ex.Message}", 5);
        }
    }
}
