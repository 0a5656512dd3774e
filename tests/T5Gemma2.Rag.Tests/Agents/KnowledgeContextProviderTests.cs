using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using T5Gemma2.Rag.Agents;
using T5Gemma2.Rag.Answering;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Packing;
using T5Gemma2.Rag.Retrieval;
using T5Gemma2.Rag.Tests.Infrastructure;
using T5Gemma2.Rag.Tests.SemanticKernel;
using static T5Gemma2.Rag.Tests.Agents.ScriptedChatClient;
using static T5Gemma2.Rag.Tests.Agents.TenantLibrary;

namespace T5Gemma2.Rag.Tests.Agents;

/// <summary>
/// <see cref="KnowledgeContextProvider"/> on a real <see cref="ChatClientAgent"/> over a real embedded collection
/// (MiniLM, the ingest pipeline, <see cref="PassageRetriever"/>): what the model is sent each turn, what the provider
/// records, the host's filter against a model's arguments, the on-demand mode and the token budget. Only the model is
/// scripted, and it records what it was sent.
/// </summary>
public sealed partial class KnowledgeContextProviderTests(SharedMiniLm miniLm) : IDisposable
{
    private static readonly string Instruction = new KnowledgeContextOptions().Instruction;

    private static readonly PassageFilter TenantAOnly = new() { SourcePrefix = TenantA };

    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        this._directory.Dispose();
    }

    [Fact]
    public async Task EachTurnTheModelSeesThatTurnsPassagesNumberedAndTheProviderRecordsThem()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var knowledge = await this.KnowledgeAsync();
        var provider = new KnowledgeContextProvider(Retriever(knowledge), new KnowledgeContextOptions { Retrieval = RetrievalOptions.Default with { Top = 2, Filter = TenantAOnly } });
        var model = new ScriptedChatClient(Says("The keeper feeds them [1]."), Says("Dark rye [2]."));
        AIAgent agent = new ChatClientAgent(model, new ChatClientAgentOptions { AIContextProviders = [provider] });
        var session = await agent.CreateSessionAsync(ct);

        await agent.RunAsync("Who feeds the cats at the lighthouse?", session, cancellationToken: ct);
        var first = provider.GetCitations(session);
        await agent.RunAsync("Which bread does the bakery bake on Tuesdays?", session, cancellationToken: ct);
        var second = provider.GetCitations(session);

        Assert.Equal(2, model.Requests.Count);
        string firstContext = Assert.Single(Contexts(model.Requests[0]));
        Assert.Contains("seventeen cats", firstContext, StringComparison.Ordinal);
        Assert.Equal(Headers(firstContext), first.Select(c => (c.Number, c.Source)));
        Assert.Equal((1, TenantA + "lighthouse.md"), (first[0].Number, first[0].Source));
        Assert.Equal([true, false], first.Select(c => c.Cited));

        // The second turn: its own question's passages, numbered from [1] again; the first turn's are not resent.
        string secondContext = Assert.Single(Contexts(model.Requests[1]));
        Assert.Contains("caraway seeds", secondContext, StringComparison.Ordinal);
        Assert.DoesNotContain("seventeen cats", secondContext, StringComparison.Ordinal);
        Assert.Equal(Headers(secondContext), second.Select(c => (c.Number, c.Source)));
        Assert.Equal([1, 2], second.Select(c => c.Number));
        Assert.Equal((TenantA + "bakery.md", "Bakery"), (second[0].Source, second[0].Title));
        Assert.Equal([false, true], second.Select(c => c.Cited));
        Assert.Contains(model.Requests[1], m => m.Role == ChatRole.User && m.Text == "Which bread does the bakery bake on Tuesdays?");
        Assert.Contains(model.Requests[1], m => m.Role == ChatRole.Assistant && m.Text == "The keeper feeds them [1].");

        // The record lives in the session, and survives its serialization.
        var restored = await agent.DeserializeSessionAsync(await agent.SerializeSessionAsync(session, cancellationToken: ct), cancellationToken: ct);
        Assert.Equal(second, provider.GetCitations(restored), CitationComparer.Instance);

        // The payroll mentions cats and the harbour too, but lies outside the host's filter.
        Assert.All(first.Concat(second), c => Assert.StartsWith(TenantA, c.Source, StringComparison.Ordinal));
        Assert.DoesNotContain(SecretWord, TextOf(model.Requests.SelectMany(r => r)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheTokenBudgetLimitsWhatIsAdded()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var knowledge = await this.KnowledgeAsync();
        const string question = "What happens at the harbour, the bakery, the ferry and the lighthouse of Vellmar?";
        async Task<(string Context, IReadOnlyList<Citation> Citations)> GiveAsync(int budget)
        {
            var provider = new KnowledgeContextProvider(Retriever(knowledge), new KnowledgeContextOptions { Retrieval = RetrievalOptions.Default with { Top = 4, Filter = TenantAOnly }, TokenBudget = budget });
            var model = new ScriptedChatClient(Says("Noted."));
            AIAgent agent = new ChatClientAgent(model, new ChatClientAgentOptions { AIContextProviders = [provider] });
            var session = await agent.CreateSessionAsync(ct);
            await agent.RunAsync(question, session, cancellationToken: ct);
            return (Assert.Single(Contexts(model.Requests[0])), provider.GetCitations(session));
        }

        var wide = await GiveAsync(4000);
        var narrow = await GiveAsync(120);

        Assert.Equal(4, wide.Citations.Count);
        Assert.InRange(narrow.Citations.Count, 1, 3);
        Assert.InRange(ChatTokenizer.Default.CountTokens(narrow.Context), 1, 120);
        Assert.True(ChatTokenizer.Default.CountTokens(wide.Context) > 120);
        Assert.Equal(Headers(narrow.Context), narrow.Citations.Select(c => (c.Number, c.Source)));
        Assert.Equal(wide.Citations.Take(narrow.Citations.Count).Select(c => c.Source), narrow.Citations.Select(c => c.Source));
    }

    [Fact]
    public async Task OnSearchCallAddsNothingUntilTheModelCallsTheSearchFunction()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var knowledge = await this.KnowledgeAsync();
        var provider = new KnowledgeContextProvider(Retriever(knowledge), new KnowledgeContextOptions { Retrieval = RetrievalOptions.Default with { Filter = TenantAOnly }, Retrieve = ContextRetrieval.OnSearchCall });
        var model = new ScriptedChatClient(
            Says("Hello! Ask me about Vellmar."),
            Calls(("search_knowledge_base", new() { ["query"] = "who feeds the lighthouse cats" })),
            Says("The lighthouse keeper feeds them [1]."));
        AIAgent agent = new ChatClientAgent(model, new ChatClientAgentOptions { AIContextProviders = [provider] });
        var session = await agent.CreateSessionAsync(ct);

        await agent.RunAsync("Hello!", session, cancellationToken: ct);
        Assert.Empty(provider.GetCitations(session));
        await agent.RunAsync("Who feeds the cats at the lighthouse?", session, cancellationToken: ct);

        // Offered, with a schema that names its parameters, but nothing retrieved until called.
        var search = Assert.Single(model.Options[0]!.Tools!.OfType<AIFunction>(), f => f.Name == "search_knowledge_base");
        Assert.Equal(["documentId", "query", "source"], search.JsonSchema.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(["query"], search.JsonSchema.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(3, model.Requests.Count);
        Assert.Empty(Contexts(model.Requests[0]));
        Assert.Empty(Contexts(model.Requests[1]));
        Assert.DoesNotContain("seventeen cats", TextOf(model.Requests[1]), StringComparison.Ordinal);

        var result = ResultOf<ContextSearchResult>(model.Requests[2], "call-1");
        Assert.Null(result.Error);
        Assert.StartsWith(Instruction, result.Context, StringComparison.Ordinal);
        Assert.Contains("seventeen cats", result.Context, StringComparison.Ordinal);
        var citations = provider.GetCitations(session);
        Assert.Equal(Headers(result.Context!), citations.Select(c => (c.Number, c.Source)));
        Assert.Equal((1, TenantA + "lighthouse.md", true), (citations[0].Number, citations[0].Source, citations[0].Cited));
    }

    [Fact]
    public async Task TheSearchFunctionsArgumentsNarrowTheHostsFilterAndNeverWidenIt()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var knowledge = await this.KnowledgeAsync();
        var provider = new KnowledgeContextProvider(Retriever(knowledge), new KnowledgeContextOptions { Retrieval = RetrievalOptions.Default with { Filter = TenantAOnly }, Retrieve = ContextRetrieval.OnSearchCall });
        const string query = $"harbour payroll code {SecretWord} ship cats";
        (string? Source, string? DocumentId)[] attacks =
        [
            (null, null), (TenantB, null), ("../" + TenantB, null), (TenantA + "../" + TenantB, null), ("/", null), ("%", null), (TenantA + "%", null),
            ("tenant", null), (null, PayrollId), (TenantB, PayrollId), (TenantA, PayrollId), (" " + TenantB + " ", null),
        ];
        var calls = attacks.Select(a => ("search_knowledge_base", new Dictionary<string, object?> { ["query"] = query, ["source"] = a.Source, ["documentId"] = a.DocumentId }))
            .Append(("search_knowledge_base", new Dictionary<string, object?> { ["query"] = "  " }));
        var model = new ScriptedChatClient(Calls([.. calls]), Says("Done."));
        AIAgent agent = new ChatClientAgent(model, new ChatClientAgentOptions { AIContextProviders = [provider] });
        var session = await agent.CreateSessionAsync(ct);

        await agent.RunAsync("What is the harbour payroll code?", session, cancellationToken: ct);

        var results = Enumerable.Range(1, attacks.Length + 1).Select(i => ResultOf<ContextSearchResult>(model.Requests[1], $"call-{i}")).ToList();
        Assert.Contains("seventeen cats", results[0].Context, StringComparison.Ordinal);
        for (int i = 0; i < attacks.Length; i++)
        {
            Assert.DoesNotContain(SecretWord, results[i].Context ?? string.Empty, StringComparison.Ordinal);
            Assert.DoesNotContain(TenantB + "payroll.md", results[i].Context ?? string.Empty, StringComparison.Ordinal);
            if (results[i].Context is null)
            {
                Assert.Contains("among the passages this knowledge base may show", results[i].Error, StringComparison.Ordinal);
            }
        }

        Assert.Equal("the query is empty; give a question or keywords to search for.", results[^1].Error);
        var citations = provider.GetCitations(session);
        Assert.NotEmpty(citations);
        Assert.All(citations, c => Assert.StartsWith(TenantA, c.Source, StringComparison.Ordinal));
        Assert.Equal(Enumerable.Range(1, citations.Count), citations.Select(c => c.Number)); // numbered on across the calls
        Assert.DoesNotContain(SecretWord, TextOf(model.Requests.SelectMany(r => r)), StringComparison.Ordinal);
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(citations));
        Assert.Equal(citations.Count, json.RootElement.GetArrayLength());
    }

    private async Task<KnowledgeKernel> KnowledgeAsync()
    {
        var knowledge = KnowledgeKernel.Create(miniLm.Generator, this._directory.Combine("store"));
        await IndexAsync(knowledge);
        return knowledge;
    }

    /// <summary>The provider's context messages among a request's.</summary>
    private static List<string> Contexts(IEnumerable<ChatMessage> request) =>
        [.. request.Where(m => m.Role == ChatRole.User && m.Text.StartsWith(Instruction, StringComparison.Ordinal)).Select(m => m.Text)];

    /// <summary>The numbers and sources of a context's passage headers ("[n] title — source").</summary>
    private static List<(int Number, string Source)> Headers(string context) =>
        [.. HeaderLine().Matches(context).Select(m => (int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), m.Groups[2].Value))];

    /// <summary>Citations by value, their passage ids included (records compare lists by reference).</summary>
    private sealed class CitationComparer : IEqualityComparer<Citation>
    {
        public static readonly CitationComparer Instance = new();

        public bool Equals(Citation? x, Citation? y) =>
            x is not null && y is not null && x with { PassageIds = [] } == y with { PassageIds = [] } && x.PassageIds.SequenceEqual(y.PassageIds);

        public int GetHashCode(Citation obj) => obj.Number;
    }

    [GeneratedRegex(@"^\[(\d+)\] .+? — (\S+?)( › .*)?$", RegexOptions.Multiline)]
    private static partial Regex HeaderLine();
}
