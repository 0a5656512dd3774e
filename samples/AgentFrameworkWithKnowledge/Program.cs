// A Microsoft Agent Framework agent answering from a local folder: the folder is indexed, a KnowledgeContextProvider
// gives the agent's model the passages for each question numbered [n], and (with a chat model that calls functions)
// the knowledge base's functions are its tools. The model is the one an --answerer form names, as for t5rag ask.
// Usage (see README.md):
//   dotnet run --project samples/AgentFrameworkWithKnowledge -- <folder> <embedding-model-dir> ["question"] --answerer <form> [--generator <t5gemma2-model-dir>]
using System.Globalization;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using T5Gemma2.Rag.Agents;
using T5Gemma2.Rag.DependencyInjection;
using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Retrieval;
using T5Gemma2.Rag.SemanticKernel;
using T5Gemma2.Rag.Server.Answering;

const string Usage = "usage: AgentFrameworkWithKnowledge <folder> <embedding-model-dir> [\"question\"] --answerer t5gemma2|openai:<url>?model=<id>|ollama:<url>?model=<id> [--generator <t5gemma2-model-dir>]";
var positional = new List<string>();
string? answerer = null;
string? generatorModel = null;
for (int i = 0; i < args.Length; i++)
{
    if (args[i] is "--answerer" or "--generator" && i + 1 < args.Length)
    {
        _ = args[i] == "--answerer" ? answerer = args[++i] : generatorModel = args[++i];
    }
    else
    {
        positional.Add(args[i]);
    }
}

if (positional.Count is < 2 or > 3)
{
    Console.Error.WriteLine(Usage);
    return 2;
}

string folder = Path.GetFullPath(positional[0]);
string question = positional.Count > 2 ? positional[2] : "What is this folder about?";
AnswererSpec? spec;
try
{
    spec = AnswererSpec.Resolve(answerer, hasGenerator: generatorModel is not null);
    spec?.ThrowIfKeyCannotGo(Environment.GetEnvironmentVariable("OPENAI_API_KEY"));
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message.Split(" (Parameter", 2)[0]);
    return 2;
}

if (spec is null)
{
    Console.Error.WriteLine("no chat model: give --answerer (or --generator, for t5gemma2).");
    Console.Error.WriteLine(Usage);
    return 2;
}

// The knowledge base's services: the embedding model, an embedded store in the temp folder, the retriever, the plugin;
// index_file may read only the folder.
var services = new ServiceCollection().AddT5Gemma2Rag(options =>
{
    options.EmbeddingModelDirectory = positional[1];
    options.GeneratorModelDirectory = generatorModel;
    options.Store = Path.Combine(Path.GetTempPath(), "agent-framework-with-knowledge");
    options.CollectionName = "folder";
    options.FileRoots = [folder];
}).BuildServiceProvider();
await using var disposeServices = services.ConfigureAwait(false);
var plugin = services.GetRequiredService<KnowledgeBasePlugin>();
var indexed = await plugin.IndexFileAsync(folder).ConfigureAwait(false);
if (indexed.Error is { } indexError)
{
    Console.Error.WriteLine($"index_file: {indexError}");
    return 3;
}

Console.WriteLine($"index_file {folder}: {indexed.DocumentsNew} new, {indexed.DocumentsChanged} changed, {indexed.DocumentsUnchanged} unchanged documents; {indexed.PassagesIndexed} passages embedded.");

// The model: T5Gemma 2 as an IChatClient (it calls no functions), or the chat model the form names.
bool local = spec.NeedsGenerator;
using IChatClient chat = local
    ? new Seq2SeqChatClient(services.GetRequiredService<Seq2SeqGenerator>())
    : spec.CreateChatClient(Environment.GetEnvironmentVariable("OPENAI_API_KEY"))!;

// The host's ceiling: the agent sees the folder's passages only, whatever its function calls ask for.
string prefix = folder.Replace('\\', '/').TrimEnd('/') + "/";
var knowledge = new KnowledgeContextProvider(services.GetRequiredService<PassageRetriever>(), new KnowledgeContextOptions
{
    Retrieval = RetrievalOptions.Default with { Top = 4, Filter = new PassageFilter { SourcePrefix = prefix } },
    TokenBudget = local ? 1024 : Math.Min(spec.ContextTokens / 2, 4096),
});
AIAgent agent = new ChatClientAgent(chat, new ChatClientAgentOptions
{
    Name = "folder-agent",
    ChatOptions = new ChatOptions
    {
        Instructions = "You answer questions about the documents of a folder, from the numbered passages you are given, citing them as [n].",
        MaxOutputTokens = 256,
        Tools = local ? null : [.. KnowledgeBaseFunctions.Create(plugin)],
    },
    AIContextProviders = [knowledge],
});

AgentSession session = await agent.CreateSessionAsync().ConfigureAwait(false);
Console.WriteLine();
Console.WriteLine($"{spec} ← \"{question}\"");
AgentResponse response;
try
{
    response = await agent.RunAsync(question, session).ConfigureAwait(false);
}
catch (Exception ex) when (ex is HttpRequestException or System.ClientModel.ClientResultException or AggregateException { InnerException: HttpRequestException or System.ClientModel.ClientResultException })
{
    // The chat model could not be reached or refused the request (the OpenAI client retries, then aggregates): its words, not a stack trace.
    Console.Error.WriteLine($"the chat model ({spec}) failed: {(ex is AggregateException { InnerException: { } first } ? first : ex).Message}");
    return 4;
}

Console.WriteLine(response.Text);
Console.WriteLine();
foreach (var source in knowledge.GetCitations(session))
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  [{source.Number}]{(source.Cited ? "*" : " ")} {source.Source}{(source.SectionPath is null ? "" : " › " + source.SectionPath)} ({source.Score:F3})"));
}

return 0;
