// A Semantic Kernel kernel answering from a local folder through the T5Gemma2.Rag plugin: index the folder, then
// search and (with a T5Gemma 2 model directory) ask, every call going through kernel.InvokeAsync as an agent's
// function calls would. Usage (see README.md):
//   dotnet run --project samples/AgentWithKnowledge -- <folder> <embedding-model-dir> ["question"] [--generator <t5gemma2-model-dir>]
using System.Globalization;
using Microsoft.SemanticKernel;
using T5Gemma2.Rag.DependencyInjection;
using T5Gemma2.Rag.SemanticKernel;

var positional = new List<string>();
string? generatorModel = null;
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--generator" && i + 1 < args.Length)
    {
        generatorModel = args[++i];
    }
    else
    {
        positional.Add(args[i]);
    }
}

if (positional.Count is < 2 or > 3)
{
    Console.Error.WriteLine("usage: AgentWithKnowledge <folder> <embedding-model-dir> [\"question\"] [--generator <t5gemma2-model-dir>]");
    return 2;
}

string folder = positional[0];
string embeddingModel = positional[1];
string question = positional.Count > 2 ? positional[2] : "What is this folder about?";

// The kernel: AddT5Gemma2Rag registers the embedding model, the embedded store (in the temp folder), the retriever,
// the answerer when a generator is given, and the "knowledge" plugin (KernelPluginFactory.CreateFromObject).
var builder = Kernel.CreateBuilder();
builder.AddT5Gemma2Rag(options =>
{
    options.EmbeddingModelDirectory = embeddingModel;
    options.GeneratorModelDirectory = generatorModel;
    options.Store = Path.Combine(Path.GetTempPath(), "agent-with-knowledge");
    options.CollectionName = "folder";
    options.Generation = new T5Gemma2.Rag.Encoder.Generation.GenerationOptions { MaxNewTokens = 128 };
});
Kernel kernel = builder.Build();

// What a function-calling model is offered.
foreach (var function in kernel.Plugins["knowledge"])
{
    Console.WriteLine($"knowledge.{function.Name}({string.Join(", ", function.Metadata.Parameters.Select(p => p.Name))}): {function.Description}");
}

Console.WriteLine();
var indexed = await kernel.InvokeAsync<IndexResult>("knowledge", "index_file", new() { ["path"] = folder }).ConfigureAwait(false);
if (indexed?.Error is { } indexError)
{
    Console.Error.WriteLine($"index_file: {indexError}");
    return 3;
}

Console.WriteLine($"index_file {folder}: {indexed!.DocumentsNew} new, {indexed.DocumentsChanged} changed, {indexed.DocumentsUnchanged} unchanged documents; {indexed.PassagesIndexed} passages embedded.");
foreach (string failure in indexed.Failures)
{
    Console.Error.WriteLine($"  could not index {failure}");
}

Console.WriteLine();
Console.WriteLine($"search \"{question}\":");
var found = await kernel.InvokeAsync<SearchResults>("knowledge", "search", new() { ["query"] = question, ["top"] = 3 }).ConfigureAwait(false);
if (found?.Error is { } searchError)
{
    Console.WriteLine($"  {searchError}");
}

foreach (var passage in found?.Passages ?? [])
{
    string snippet = passage.Text.ReplaceLineEndings(" ");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {passage.Rank}. [{passage.Score:F3}] {passage.Source}{(passage.Section is null ? "" : " › " + passage.Section)}"));
    Console.WriteLine($"     {(snippet.Length > 160 ? snippet[..160] + "…" : snippet)}");
}

if (generatorModel is null)
{
    Console.WriteLine();
    Console.WriteLine("(add --generator <T5Gemma 2 model directory> to ask as well)");
    return 0;
}

Console.WriteLine();
Console.WriteLine($"ask \"{question}\":");
var answer = await kernel.InvokeAsync<AnswerResult>("knowledge", "ask", new() { ["question"] = question, ["top"] = 4 }).ConfigureAwait(false);
if (answer?.Error is { } askError)
{
    Console.WriteLine($"  {askError}");
    return 0;
}

Console.WriteLine($"  {answer!.Answer}{(answer.TimedOut ? " (timed out)" : "")}");
foreach (var citation in answer.Citations)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  [{citation.Number}]{(citation.Cited ? "*" : " ")} {citation.Source}{(citation.SectionPath is null ? "" : " › " + citation.SectionPath)} ({citation.Score:F3})"));
}

return 0;
