using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace T5Gemma2.Rag.Server.Mcp;

/// <summary>MCP over streamable HTTP at <c>/mcp</c> (placeholder until it lands).</summary>
internal static class McpHttpEndpoints
{
    public static void Add(IServiceCollection services)
    {
        _ = services;
    }

    public static void Map(IEndpointRouteBuilder app)
    {
        _ = app;
    }
}
