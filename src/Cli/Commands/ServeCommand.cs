using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using T5Gemma2.Rag.Cli.Console;
using T5Gemma2.Rag.Server.Answering;
using T5Gemma2.Rag.Server.Hosting;
using T5Gemma2.Rag.Server.Security;

namespace T5Gemma2.Rag.Cli.Commands;

/// <summary>
/// <c>t5rag serve</c>: the knowledge-base service (HTTP API, OpenAI-compatible endpoints, MCP over HTTP, ingestion
/// jobs, API keys) over the same store and models as the other commands, on loopback unless told otherwise.
/// </summary>
internal static class ServeCommand
{
    public static Command Create(CliConsole console)
    {
        var shared = new CollectionOptions();
        var urls = new Option<string[]>("--urls") { Description = "Where to listen (default http://127.0.0.1:8080); beyond loopback only with an API key (t5rag keys create)", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => ["http://127.0.0.1:8080"] };
        var generator = new Option<string?>("--generator", "-g") { Description = "The T5Gemma 2 model directory that answers ask and chat completions (default: none; search only)" };
        var database = ServiceDatabaseOption();
        var noIngest = new Option<bool>("--no-ingest") { Description = "Serve reads only (search, ask, embeddings, chat): a read replica beside one ingesting replica" };
        var answerer = AskCommand.AnswererOption();
        var command = new Command("serve", "Serve the knowledge base over HTTP: API, OpenAI-compatible endpoints, MCP, ingestion jobs, API keys") { urls, generator, answerer, database, noIngest };
        shared.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = shared.Settings(parse, console.LoggerFactory);
            string model = shared.ModelPath(parse, settings);
            string store = shared.StorePath(parse, settings);
            var session = shared.Session(parse, settings);

            var builder = KnowledgeBaseServer.CreateBuilder([], options =>
            {
                options.Store = store;
                options.EmbeddingModelDirectory = model;
                options.GeneratorModelDirectory = parse.GetValue(generator);
                if (parse.GetValue(answerer) is { } given)
                {
                    options.Answerer = given; // else T5Rag:Answerer from configuration, if any
                }
                options.ServiceDatabase = parse.GetValue(database);
                options.Ingest = !parse.GetValue(noIngest);
                options.Session = session;
                options.Dimensions = shared.DimensionsGiven(parse, settings);
                options.QdrantApiKey = settings.QdrantApiKey;
            });
            builder.WebHost.UseUrls(parse.GetValue(urls)!);

            // The answerer as configuration and flags make it, checked before any model is loaded.
            var configured = builder.Configuration.GetSection(KnowledgeBaseServerOptions.SectionName);
            AnswererSpec? resolved;
            try
            {
                resolved = AnswererSpec.Resolve(parse.GetValue(answerer) ?? configured["Answerer"], (parse.GetValue(generator) ?? configured["GeneratorModelDirectory"]) is not null);
                resolved?.ThrowIfKeyCannotGo(configured["AnswererApiKey"] ?? Environment.GetEnvironmentVariable("OPENAI_API_KEY"));
            }
            catch (ArgumentException ex)
            {
                throw UsageException.From(ex);
            }

            // Everything t5rag says goes to stderr, the server's log included, as with every other command.
            builder.Logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace)
                .AddFilter("Microsoft.AspNetCore", LogLevel.Warning).AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
            await using var app = builder.Build().UseKnowledgeBaseServer();
            var keys = app.Services.GetRequiredService<ApiKeyStore>();
            await console.Error.WriteLineAsync(
                $"t5rag serve: {store} with {model}{Answering(resolved, parse.GetValue(generator) ?? configured["GeneratorModelDirectory"])}; " +
                $"{(keys.AnyActive() ? "API keys required" : "no API key exists: loopback callers only, without keys")}; {(parse.GetValue(noIngest) ? "reads only" : "ingesting")}; listening on {string.Join(", ", parse.GetValue(urls)!)}. Ctrl+C stops.");
            await KnowledgeBaseServer.RunAsync(app, cancellationToken);
            return ExitCodes.Success;
        });
        return command;
    }

    private static string Answering(AnswererSpec? answerer, string? generator) => (answerer, generator) switch
    {
        (null or { NeedsGenerator: true }, { } g) => $", answering with {g}",
        ({ } chat, { } g) => $", answering with {chat} (reranking with {g})",
        ({ } chat, null) => $", answering with {chat}",
        _ => ", no answerer (search only)",
    };

    /// <summary>--service-db, shared by serve and keys.</summary>
    internal static Option<string?> ServiceDatabaseOption() => new("--service-db")
    {
        Description = "The service database (API keys, ingestion jobs; uploads are staged beside it): default service.db in the store directory, or .t5rag/service.db for a Qdrant store. Replicas share one",
    };
}
