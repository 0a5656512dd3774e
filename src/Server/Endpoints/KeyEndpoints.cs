using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using T5Gemma2.Rag.Server.Problems;
using T5Gemma2.Rag.Server.Security;

namespace T5Gemma2.Rag.Server.Endpoints;

/// <summary><c>/api/keys</c>: what <c>t5rag keys</c> does, for an admin key over HTTP. A new key is shown once, in the response that creates it.</summary>
internal static class KeyEndpoints
{
    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/keys", List).WithName("ListKeys").WithSummary("Every API key (names, roles, collections; never the keys) (admin)").Produces<KeyList>();
        api.MapPost("/keys", CreateAsync).WithName("CreateKey").WithSummary("Creates an API key; the key is in this response only (admin)").Produces<CreatedKey>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapDelete("/keys/{name}", Revoke).WithName("RevokeKey").WithSummary("Revokes an API key at once, on every replica (admin)").Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static IResult List(HttpContext context, ApiKeyStore keys) =>
        NotAdmin(context) ?? TypedResults.Json(new KeyList([.. keys.List().Select(KeyResult.From)]), JsonBody.Options);

    private static async Task<IResult> CreateAsync(HttpContext context, ApiKeyStore keys, Hosting.KnowledgeBaseServerOptions options)
    {
        if (NotAdmin(context) is { } refused)
        {
            return refused;
        }

        var (body, problem) = await JsonBody.ReadAsync<CreateKeyBody>(context.Request, options.MaxRequestBytes).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        if (string.IsNullOrWhiteSpace(body!.Name))
        {
            return ProblemResponses.BadRequest("name is empty; expected a label for the key.", "name");
        }

        try
        {
            var (key, record) = keys.Create(body.Name, body.Role ?? ApiKeyRole.Reader, body.Collections ?? []);
            return Results.Json(new CreatedKey(key, KeyResult.From(record)), JsonBody.Options, statusCode: StatusCodes.Status201Created);
        }
        catch (ArgumentException ex)
        {
            return ProblemResponses.BadRequest(ex.Message.Split(" (Parameter", 2)[0].Replace("--collections", "collections", StringComparison.Ordinal), ex.ParamName == "name" ? "name" : "collections");
        }
    }

    private static IResult Revoke(string name, HttpContext context, ApiKeyStore keys) =>
        NotAdmin(context) ?? (keys.Revoke(name) ? TypedResults.NoContent() : ProblemResponses.NotFound($"no active API key named '{name}'."));

    private static IResult? NotAdmin(HttpContext context)
    {
        var caller = Caller.From(context.User);
        return caller.IsAdmin ? null : ProblemResponses.Forbidden($"API key '{caller.Name}' is a {caller.Role.ToString().ToLowerInvariant()} key; managing keys needs an admin key.");
    }
}

/// <summary>The body of <c>POST /api/keys</c>.</summary>
public sealed class CreateKeyBody
{
    public string? Name { get; init; }

    /// <summary>Collection names, or <c>["*"]</c> for every collection.</summary>
    public IReadOnlyList<string>? Collections { get; init; }

    /// <summary>reader (default), writer or admin.</summary>
    public ApiKeyRole? Role { get; init; }
}

/// <summary>Every key.</summary>
public sealed record KeyList(IReadOnlyList<KeyResult> Keys);

/// <summary>A key as listings show it: never the key itself.</summary>
public sealed record KeyResult(string Name, string Prefix, string Role, IReadOnlyList<string> Collections, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt)
{
    internal static KeyResult From(ApiKey key) => new(key.Name, key.Prefix, key.Role.ToString().ToLowerInvariant(), key.Collections, key.CreatedAt, key.RevokedAt);
}

/// <summary>A new key: <see cref="Key"/> is shown here once and stored nowhere.</summary>
public sealed record CreatedKey(string Key, KeyResult Record);
