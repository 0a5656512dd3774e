using Microsoft.AspNetCore.Http;
using T5Gemma2.Rag.Server.Collections;
using T5Gemma2.Rag.Server.Hosting;
using T5Gemma2.Rag.Server.Problems;
using T5Gemma2.Rag.Server.Security;

namespace T5Gemma2.Rag.Server.Endpoints;

/// <summary>
/// The one gate every endpoint that names a collection passes: the key must cover it (else 404, the same answer as
/// for a collection that does not exist, so names do not leak), a write needs the writer role (403) on a replica
/// that ingests (503).
/// </summary>
internal static class CollectionAccess
{
    /// <summary>The collection's services for a caller who reads it, or the problem to answer with.</summary>
    public static async Task<(CollectionServices? Services, IResult? Problem)> ForReadAsync(HttpContext context, KnowledgeBaseCollections collections, string name)
    {
        var caller = Caller.From(context.User);
        if (!CollectionNames.IsValid(name) || !caller.CanRead(name))
        {
            return (null, Missing(name));
        }

        var services = await collections.OpenAsync(name, context.RequestAborted).ConfigureAwait(false);
        return services is null ? (null, Missing(name)) : (services, null);
    }

    /// <summary>The collection's services for a caller who writes it, or the problem to answer with.</summary>
    public static async Task<(CollectionServices? Services, IResult? Problem)> ForWriteAsync(HttpContext context, KnowledgeBaseCollections collections, KnowledgeBaseServerOptions options, string name)
    {
        if (WriteRefused(context, options, name) is { } refused)
        {
            return (null, refused);
        }

        return await ForReadAsync(context, collections, name).ConfigureAwait(false);
    }

    /// <summary>Why the caller may not write <paramref name="name"/>, or null when it may.</summary>
    public static IResult? WriteRefused(HttpContext context, KnowledgeBaseServerOptions options, string name)
    {
        var caller = Caller.From(context.User);
        if (!CollectionNames.IsValid(name) || !caller.CanRead(name))
        {
            return Missing(name);
        }

        if (!caller.CanWrite(name))
        {
            return ProblemResponses.Forbidden($"API key '{caller.Name}' is a {caller.Role.ToString().ToLowerInvariant()} key; uploading and deleting in collection '{name}' needs a writer or admin key.");
        }

        return options.Ingest ? null : ReadOnlyReplica();
    }

    /// <summary>The 503 of a replica started with --no-ingest.</summary>
    public static IResult ReadOnlyReplica() =>
        ProblemResponses.Unavailable("this replica serves reads only (t5rag serve --no-ingest); send writes to the ingesting replica.", 60);

    public static IResult Missing(string name) =>
        ProblemResponses.NotFound($"no collection '{(name.Length > 64 ? name[..64] + "…" : name)}' that this API key may use.");
}
