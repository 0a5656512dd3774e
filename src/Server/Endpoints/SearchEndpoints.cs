using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using T5Gemma2.Rag.Retrieval;
using T5Gemma2.Rag.Server.Collections;
using T5Gemma2.Rag.Server.Hosting;
using T5Gemma2.Rag.Server.Problems;

namespace T5Gemma2.Rag.Server.Endpoints;

/// <summary><c>POST /api/collections/{name}/search</c>: the retriever <c>t5rag search</c> runs, over HTTP.</summary>
internal static class SearchEndpoints
{
    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/collections/{name}/search", SearchAsync)
            .WithName("Search")
            .WithSummary("Retrieves the passages best matching a query")
            .Accepts<SearchRequestBody>("application/json")
            .Produces<SearchResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> SearchAsync(string name, HttpContext context, KnowledgeBaseCollections collections, KnowledgeBaseServerOptions options)
    {
        var (body, problem) = await JsonBody.ReadAsync<SearchRequestBody>(context.Request, options.MaxRequestBytes).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        if (string.IsNullOrWhiteSpace(body!.Query))
        {
            return ProblemResponses.BadRequest("query is empty; expected a question or keywords.", "query");
        }

        var (retrieval, wrong, field) = body.ToRetrieval(options.MaxTop);
        if (retrieval is null)
        {
            return ProblemResponses.BadRequest(wrong!, field);
        }

        if (retrieval.Rerank && collections.Generator is null)
        {
            return ProblemResponses.BadRequest("rerank needs the T5Gemma 2 generator, and this server has none (t5rag serve --generator).", "rerank");
        }

        var (services, missing) = await CollectionAccess.ForReadAsync(context, collections, name).ConfigureAwait(false);
        if (missing is not null)
        {
            return missing;
        }

        var passages = await services!.Retriever.RetrieveAsync(body.Query, retrieval, context.RequestAborted).ConfigureAwait(false);
        return TypedResults.Json(new SearchResponse([.. passages.Select((p, i) => PassageResult.From(p, i + 1))]), JsonBody.Options);
    }
}

/// <summary>What search returns: the passages, best first.</summary>
public sealed record SearchResponse(IReadOnlyList<PassageResult> Passages);

/// <summary>One retrieved passage as the API returns it.</summary>
public sealed record PassageResult(
    int Rank,
    double Score,
    string DocumentId,
    IReadOnlyList<string> PassageIds,
    string Source,
    string? Title,
    string? Section,
    int? Page,
    string Kind,
    string Snippet,
    string Text,
    IReadOnlyDictionary<string, string>? Tags)
{
    private const int SnippetCharacters = 240;

    internal static PassageResult From(RetrievedPassage passage, int rank) => new(
        rank,
        passage.Score,
        passage.DocumentId,
        passage.PassageIds,
        passage.Source,
        passage.Title,
        passage.SectionPath,
        passage.Page,
        passage.Kind.ToString().ToLowerInvariant(),
        passage.Snippet(SnippetCharacters),
        passage.Text,
        passage.Tags is { Count: > 0 } tags ? tags : null);
}
