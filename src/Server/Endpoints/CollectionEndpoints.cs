using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Server.Collections;
using T5Gemma2.Rag.Server.Hosting;
using T5Gemma2.Rag.Server.Problems;
using T5Gemma2.Rag.Server.Security;

namespace T5Gemma2.Rag.Server.Endpoints;

/// <summary>
/// <c>/api/collections</c>: list (only those the key covers), describe, create and delete (admin). The same store
/// operations as <c>t5rag collections</c>.
/// </summary>
internal static class CollectionEndpoints
{
    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/collections", ListAsync).WithName("ListCollections").WithSummary("The collections this API key may use").Produces<CollectionList>();
        api.MapGet("/collections/{name}", GetAsync).WithName("GetCollection").WithSummary("One collection: documents, passages, model").Produces<CollectionResult>().ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPut("/collections/{name}", PutAsync).WithName("CreateCollection").WithSummary("Creates the collection for the server's embedding model (admin)").Produces<CollectionResult>(StatusCodes.Status201Created).Produces<CollectionResult>().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status409Conflict);
        api.MapDelete("/collections/{name}", DeleteAsync).WithName("DeleteCollection").WithSummary("Deletes the collection and all its passages (admin)").Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> ListAsync(HttpContext context, KnowledgeBaseCollections collections)
    {
        var caller = Caller.From(context.User);
        var results = new List<CollectionResult>();
        foreach (string name in (await collections.ListAsync(context.RequestAborted).ConfigureAwait(false)).Where(caller.CanRead).Order(StringComparer.Ordinal))
        {
            // The store keeps the collections it opens (and closes them when it is disposed): nothing to dispose here.
            if (await collections.Store.OpenCollectionAsync(name, context.RequestAborted).ConfigureAwait(false) is { } collection)
            {
                results.Add(CollectionResult.From(await collection.GetInfoAsync(context.RequestAborted).ConfigureAwait(false)));
            }
        }

        return TypedResults.Json(new CollectionList(results), JsonBody.Options);
    }

    private static async Task<IResult> GetAsync(string name, HttpContext context, KnowledgeBaseCollections collections)
    {
        var (services, missing) = await CollectionAccess.ForReadAsync(context, collections, name).ConfigureAwait(false);
        return missing ?? TypedResults.Json(CollectionResult.From(await services!.Collection.GetInfoAsync(context.RequestAborted).ConfigureAwait(false)), JsonBody.Options);
    }

    private static async Task<IResult> PutAsync(string name, HttpContext context, KnowledgeBaseCollections collections, KnowledgeBaseServerOptions options)
    {
        if (AdminRefused(context, options, name) is { } refused)
        {
            return refused;
        }

        bool existed = (await collections.ListAsync(context.RequestAborted).ConfigureAwait(false)).Contains(name, StringComparer.Ordinal);
        var services = await collections.OpenOrCreateAsync(name, context.RequestAborted).ConfigureAwait(false);
        var info = CollectionResult.From(await services.Collection.GetInfoAsync(context.RequestAborted).ConfigureAwait(false));
        return existed ? TypedResults.Json(info, JsonBody.Options) : Results.Json(info, JsonBody.Options, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> DeleteAsync(string name, HttpContext context, KnowledgeBaseCollections collections, KnowledgeBaseServerOptions options)
    {
        if (AdminRefused(context, options, name) is { } refused)
        {
            return refused;
        }

        return await collections.DeleteAsync(name, context.RequestAborted).ConfigureAwait(false) ? TypedResults.NoContent() : CollectionAccess.Missing(name);
    }

    private static IResult? AdminRefused(HttpContext context, KnowledgeBaseServerOptions options, string name)
    {
        var caller = Caller.From(context.User);
        if (!caller.IsAdmin)
        {
            return caller.CanRead(name)
                ? ProblemResponses.Forbidden($"API key '{caller.Name}' is a {caller.Role.ToString().ToLowerInvariant()} key; creating and deleting collections needs an admin key.")
                : CollectionAccess.Missing(name);
        }

        if (!CollectionNames.IsValid(name))
        {
            return ProblemResponses.BadRequest($"'{(name.Length > 64 ? name[..64] + "…" : name)}' is not a collection name ({CollectionNames.Rule}).", "name");
        }

        return options.Ingest ? null : CollectionAccess.ReadOnlyReplica();
    }
}

/// <summary>The collections a key may use.</summary>
public sealed record CollectionList(IReadOnlyList<CollectionResult> Collections);

/// <summary>A collection as the API describes it.</summary>
public sealed record CollectionResult(string Name, long Documents, long Passages, string Model, int Dimensions, DateTimeOffset CreatedAt)
{
    internal static CollectionResult From(CollectionInfo info) => new(info.Name, info.Documents, info.Passages, info.Settings.ModelId, info.Settings.Dimensions, info.CreatedAt);
}
