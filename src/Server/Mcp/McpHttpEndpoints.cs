using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Server;
using T5Gemma2.Rag.Mcp;
using T5Gemma2.Rag.SemanticKernel;
using T5Gemma2.Rag.Server.Collections;
using T5Gemma2.Rag.Server.Endpoints;
using T5Gemma2.Rag.Server.Hosting;
using T5Gemma2.Rag.Server.Problems;
using T5Gemma2.Rag.Server.Security;

namespace T5Gemma2.Rag.Server.Mcp;

/// <summary>
/// MCP over streamable HTTP: <c>/mcp/{collection}</c> serves one collection with the tools of <c>t5rag mcp</c>
/// (<see cref="KnowledgeBaseMcpServer.CreateTools"/> over the collection's <see cref="KnowledgeBasePlugin"/>), and
/// <c>/mcp</c> the one collection a key covers. The key's collections are the ceiling: the collection is the route's,
/// passed through <see cref="CollectionAccess"/> on every request (404 for one the key does not cover, as for one that
/// does not exist), and no tool takes a collection argument that could reach past it.
/// </summary>
/// <remarks>
/// <para>Stateless: every request is authenticated, gated and given its tools afresh (no session a request could
/// borrow from another key), and any replica answers any request, behind a load balancer without affinity.</para>
/// <para>What a key's session lists: search and ask for a reader; index_text and forget_document too for a writer on
/// a replica that ingests. index_file is never offered (it reads the server's own disk: no business of a remote
/// caller), and the plugin is built with <see cref="KnowledgeBaseOptions.ReadHostFiles"/> off, so ask's image cannot be
/// a server path either.</para>
/// </remarks>
internal static class McpHttpEndpoints
{
    /// <summary>Where MCP is served.</summary>
    public const string Path = "/mcp";

    /// <summary>The tools that change the collection: listed only for a caller who may write it.</summary>
    internal static readonly IReadOnlySet<string> WriteTools = new HashSet<string>(StringComparer.Ordinal) { "index_text", "forget_document" };

    /// <summary>The tools never offered over HTTP.</summary>
    internal static readonly IReadOnlySet<string> HostOnlyTools = new HashSet<string>(StringComparer.Ordinal) { "index_file" };

    private const string ServicesItem = "t5rag:mcp-collection";

    // The tools of each collection's plugin, made once (reflection and JSON schemas) and filtered per request.
    private static readonly ConditionalWeakTable<KnowledgeBasePlugin, McpServerOptions> s_tools = [];

    public static void Add(IServiceCollection services)
    {
        services.AddMcpServer().WithHttpTransport(http =>
        {
            http.SessionMode = HttpServerSessionMode.Stateless;
            http.ConfigureSessionOptions = ConfigureAsync;
        });
    }

    public static void Map(IEndpointRouteBuilder app)
    {
        foreach (string pattern in new[] { Path + "/{collection}", Path })
        {
            app.MapMcp(pattern)
                .AddEndpointFilter(GateAsync)
                .RequireRateLimiting(KnowledgeBaseServer.PerKeyPolicy)
                .WithTags("MCP")
                .ExcludeFromDescription();
        }
    }

    /// <summary>The collection a request serves, checked against its key, and the request body's limit, before the MCP handler reads anything.</summary>
    private static async ValueTask<object?> GateAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var options = context.RequestServices.GetRequiredService<KnowledgeBaseServerOptions>();
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = options.MaxRequestBytes;
        }

        string? name = context.GetRouteValue("collection") as string;
        if (name is null)
        {
            var caller = Caller.From(context.User);
            if (caller.Collections is not [var only] || only == ApiKey.AllCollections)
            {
                return ProblemResponses.BadRequest($"API key '{caller.Name}' covers {(caller.Collections.Contains(ApiKey.AllCollections) ? "every collection" : "several collections")}; connect to {Path}/<collection> to choose one.", "collection");
            }

            name = only;
        }

        var (services, missing) = await CollectionAccess.ForReadAsync(context, context.RequestServices.GetRequiredService<KnowledgeBaseCollections>(), name).ConfigureAwait(false);
        if (missing is not null)
        {
            return missing;
        }

        context.Items[ServicesItem] = services;
        return await next(invocation).ConfigureAwait(false);
    }

    /// <summary>The server the request talks to: the collection's tools that this caller may use, under <c>t5rag mcp</c>'s name and instructions.</summary>
    private static Task ConfigureAsync(HttpContext context, McpServerOptions server, CancellationToken cancellationToken)
    {
        var services = context.Items[ServicesItem] as CollectionServices
            ?? throw new InvalidOperationException("an MCP request reached the server without passing the collection gate.");
        var caller = Caller.From(context.User);
        bool writes = caller.CanWrite(services.Name) && context.RequestServices.GetRequiredService<KnowledgeBaseServerOptions>().Ingest;
        var all = s_tools.GetValue(services.Plugin, KnowledgeBaseMcpServer.CreateOptions);
        var tools = new McpServerPrimitiveCollection<McpServerTool>();
        foreach (var tool in all.ToolCollection!)
        {
            string name = tool.ProtocolTool.Name;
            if (!HostOnlyTools.Contains(name) && (writes || !WriteTools.Contains(name)))
            {
                tools.Add(tool);
            }
        }

        server.ServerInfo = all.ServerInfo;
        server.ServerInstructions = $"{all.ServerInstructions} This server is collection '{services.Name}'; index_file (a path on the server) is not offered over HTTP.";
        server.ToolCollection = tools;
        return Task.CompletedTask;
    }
}
