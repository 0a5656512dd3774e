using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using T5Gemma2.Rag.Server.Collections;
using T5Gemma2.Rag.Server.Hosting;
using T5Gemma2.Rag.Server.Problems;
using T5Gemma2.Rag.Server.Security;

namespace T5Gemma2.Rag.Server.OpenAi;

/// <summary>
/// The OpenAI-compatible endpoints under <c>/v1</c>, so OpenAI's client libraries and the chat front-ends built on them
/// work unchanged: <c>POST /v1/embeddings</c>, <c>GET /v1/models</c>, <c>POST /v1/chat/completions</c>. They take the
/// same Bearer keys as <c>/api</c> (the key is the client's "API key"), under the same per-key rate limit, and answer
/// every error in OpenAI's error shape (<see cref="OpenAiErrorWriter"/>).
/// </summary>
internal static class OpenAiEndpoints
{
    /// <summary>What a collection is called as a chat model: <c>kb:&lt;collection&gt;</c>.</summary>
    public const string CollectionModelPrefix = "kb:";

    /// <summary>The <c>owned_by</c> of every model listed.</summary>
    public const string Owner = "t5rag";

    private static readonly long s_started = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>OpenAI's error shape for problems under <c>/v1</c>: its writer goes ahead of the default one.</summary>
    public static void Add(IServiceCollection services) =>
        services.Insert(0, ServiceDescriptor.Singleton<IProblemDetailsWriter, OpenAiErrorWriter>());

    public static void Map(IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup(OpenAiErrorWriter.PathPrefix).RequireRateLimiting(KnowledgeBaseServer.PerKeyPolicy).WithTags("OpenAI-compatible");
        EmbeddingsEndpoint.Map(v1);
        ChatCompletionsEndpoint.Map(v1);
        v1.MapGet("/models", ListModelsAsync)
            .WithName("ListModels")
            .WithSummary("The embedding model, the generator, and kb:<collection> for each collection this API key may read")
            .Produces<ModelList>();
    }

    private static async Task<IResult> ListModelsAsync(HttpContext context, KnowledgeBaseCollections collections)
    {
        var caller = Caller.From(context.User);
        var readable = (await collections.ListAsync(context.RequestAborted).ConfigureAwait(false))
            .Where(name => CollectionNames.IsValid(name) && caller.CanRead(name))
            .Order(StringComparer.Ordinal);
        List<string> ids = [collections.EmbeddingModelId];
        if (collections.GeneratorModelId is { } generator && generator != collections.EmbeddingModelId)
        {
            ids.Add(generator);
        }

        ids.AddRange(readable.Select(name => CollectionModelPrefix + name));
        return TypedResults.Json(new ModelList("list", [.. ids.Select(id => new ModelItem(id, "model", s_started, Owner))]), JsonBody.Options);
    }
}

/// <summary>What <c>GET /v1/models</c> returns, in OpenAI's shape.</summary>
public sealed record ModelList(string Object, IReadOnlyList<ModelItem> Data);

/// <summary>One model; <see cref="Created"/> is when the server started (its models and collections are served since then).</summary>
public sealed record ModelItem(string Id, string Object, long Created, string OwnedBy);
