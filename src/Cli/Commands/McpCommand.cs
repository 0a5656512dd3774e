using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using T5Gemma2.Rag.Cli.Console;
using T5Gemma2.Rag.DependencyInjection;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Indexer.Pipeline;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Mcp;
using T5Gemma2.Rag.Retrieval;
using T5Gemma2.Rag.SemanticKernel;

namespace T5Gemma2.Rag.Cli.Commands;

/// <summary>
/// <c>t5rag mcp</c>: serves a collection as Model Context Protocol tools over stdio (search, ask, index_text,
/// index_file, forget_document), so agents outside .NET can use the knowledge base. Stdout carries only the
/// protocol; everything t5rag says goes to stderr.
/// </summary>
internal static class McpCommand
{
    public static Command Create(CliConsole console)
    {
        var shared = new CollectionOptions();
        var generatorOption = new Option<string?>("--generator", "-g") { Description = "The T5Gemma 2 model directory that answers the ask tool (default: none; ask then says so)" };
        var roots = new Option<string[]>("--root") { Description = "A folder index_file may read under; repeat for several (default: any path)", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [] };
        var command = new Command("mcp", "Serve a collection to agents as MCP tools over stdio: search, ask, index_text, index_file, forget_document") { generatorOption, roots };
        shared.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = shared.Settings(parse, console.LoggerFactory);
            string model = shared.ModelPath(parse, settings);
            string location = shared.StorePath(parse, settings);
            string name = shared.CollectionName(parse, settings);
            var chunking = settings.ChunkTokens is null && settings.OverlapTokens is null
                ? null
                : IndexCommand.Chunking(settings.ChunkTokens, settings.OverlapTokens, ModelDirectory.Open(model).MaxLength);

            var services = new ServiceCollection();

            // The library objects (generator, store, pipeline, answerer, MCP server) log to stderr, never to stdout.
            services.AddSingleton(console.LoggerFactory);
            // The CLI's own store resolution: the settings' Qdrant URL and API key, a malformed URL as a usage error.
            services.AddSingleton(_ => shared.OpenStore(parse, settings, console.LoggerFactory));
            services.AddT5Gemma2Rag(options =>
            {
                options.EmbeddingModelDirectory = model;
                options.GeneratorModelDirectory = parse.GetValue(generatorOption);
                options.Store = location;
                options.CollectionName = name;
                options.Retrieval = new RetrievalOptions { Mode = settings.SearchMode };
                options.Ingest = new IngestOptions { Chunking = chunking };
                options.FileRoots = parse.GetValue(roots) is { Length: > 0 } given ? given : null;
                options.Session = shared.Session(parse, settings);
                options.Dimensions = shared.DimensionsGiven(parse, settings);
            });

            await using var provider = services.BuildServiceProvider();
            // Load the models and open the collection now, so a wrong directory or a collection of another model is
            // one line on stderr and an exit code before any client connects, not a failure inside a tool call.
            var plugin = provider.GetRequiredService<KnowledgeBasePlugin>();
            var info = await provider.GetRequiredService<IPassageCollection>().GetInfoAsync(cancellationToken);
            await console.Error.WriteLineAsync(
                $"t5rag mcp: serving collection '{info.Name}' ({info.Documents:N0} documents, {info.Passages:N0} passages) of {info.Location} over stdio; tools: search, {(plugin.CanAnswer ? "ask" : "ask (no --generator: it will say so)")}, index_text, index_file, forget_document. Close stdin or press Ctrl+C to stop.");
            await KnowledgeBaseMcpServer.RunStdioAsync(plugin, console.LoggerFactory, cancellationToken);
            return ExitCodes.Success;
        });
        return command;
    }
}
