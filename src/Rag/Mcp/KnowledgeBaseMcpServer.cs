using System.Reflection;
using Microsoft.Extensions.Logging;
using Microsoft.SemanticKernel;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using T5Gemma2.Rag.SemanticKernel;

namespace T5Gemma2.Rag.Mcp;

/// <summary>
/// The knowledge base as a Model Context Protocol server, so agents outside .NET can search, ask and index. The tools
/// are the <see cref="KnowledgeBasePlugin"/>'s kernel functions (the methods marked [KernelFunction], under the same
/// names, with the same descriptions, parameters and results), so nothing is described twice.
/// </summary>
/// <remarks>
/// <para>Tools are made from the methods by the MCP SDK (Microsoft.Extensions.AI's function factory) rather than from
/// the KernelFunction objects, whose JSON schema in SK 1.82 carries the description under a stray "condition" keyword.</para>
/// <para>Over stdio, stdout carries only the protocol: nothing here writes to the console, and a logger factory given
/// must write to stderr. Tool results are the plugin's records as JSON text; input a model can correct comes back in
/// their <c>error</c> field (see <see cref="KnowledgeBasePlugin"/>), so MCP clients see the reason, not a generic failure.</para>
/// </remarks>
public static class KnowledgeBaseMcpServer
{
    /// <summary>The name the server gives itself in the MCP handshake.</summary>
    public const string ServerName = "t5rag";

    private const string Instructions =
        "A local knowledge base of indexed documents. Call search to find passages with their sources (path or URI, title, section, page); " +
        "call ask for an answer that cites passages as [n] (when an answering model is configured); index_text and index_file add documents; " +
        "forget_document removes one. A result's error field says why it is empty.";

    /// <summary>The plugin's functions as MCP tools, annotated: search and ask read only, index_* additive, forget_document destructive.</summary>
    public static IReadOnlyList<McpServerTool> CreateTools(KnowledgeBasePlugin plugin)
    {
        ArgumentNullException.ThrowIfNull(plugin);
        return [.. typeof(KnowledgeBasePlugin).GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Select(method => (Method: method, Function: method.GetCustomAttribute<KernelFunctionAttribute>()))
            .Where(m => m.Function?.Name is not null)
            .Select(m => McpServerTool.Create(m.Method, plugin, Annotate(m.Function!.Name!)))];
    }

    /// <summary>Server options serving the plugin's tools.</summary>
    public static McpServerOptions CreateOptions(KnowledgeBasePlugin plugin)
    {
        var tools = new McpServerPrimitiveCollection<McpServerTool>();
        foreach (var tool in CreateTools(plugin))
        {
            tools.Add(tool);
        }

        return new McpServerOptions
        {
            ServerInfo = new Implementation { Name = ServerName, Version = typeof(KnowledgeBaseMcpServer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "1.0.0" },
            ServerInstructions = Instructions,
            ToolCollection = tools,
        };
    }

    /// <summary>Serves the plugin over <paramref name="transport"/> until the client disconnects or <paramref name="cancellationToken"/> fires.</summary>
    public static Task RunAsync(KnowledgeBasePlugin plugin, ITransport transport, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        return ServeAsync(transport, CreateOptions(plugin), loggerFactory, cancellationToken);
    }

    /// <summary>Serves the plugin over this process's stdin and stdout (what <c>t5rag mcp</c> runs).</summary>
    public static async Task RunStdioAsync(KnowledgeBasePlugin plugin, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        var options = CreateOptions(plugin);
        var transport = new StdioServerTransport(options, loggerFactory);
        await using (transport.ConfigureAwait(false))
        {
            await ServeAsync(transport, options, loggerFactory, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task ServeAsync(ITransport transport, McpServerOptions options, ILoggerFactory? loggerFactory, CancellationToken cancellationToken)
    {
        var server = McpServer.Create(transport, options, loggerFactory);
        await using (server.ConfigureAwait(false))
        {
            await server.RunAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static McpServerToolCreateOptions Annotate(string name) => name switch
    {
        "search" or "ask" => new() { Name = name, ReadOnly = true, OpenWorld = false },
        "forget_document" => new() { Name = name, ReadOnly = false, Destructive = true, Idempotent = true, OpenWorld = false },
        _ => new() { Name = name, ReadOnly = false, Destructive = false, Idempotent = true, OpenWorld = false },
    };
}
