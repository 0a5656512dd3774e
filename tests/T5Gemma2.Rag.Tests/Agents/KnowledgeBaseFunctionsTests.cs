using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using T5Gemma2.Rag.Agents;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Retrieval;
using T5Gemma2.Rag.SemanticKernel;
using T5Gemma2.Rag.Tests.Infrastructure;
using T5Gemma2.Rag.Tests.SemanticKernel;
using static T5Gemma2.Rag.Tests.Agents.ScriptedChatClient;
using static T5Gemma2.Rag.Tests.Agents.TenantLibrary;

namespace T5Gemma2.Rag.Tests.Agents;

/// <summary>
/// The plugin's functions as AIFunctions, called by a real <see cref="ChatClientAgent"/>'s function invocation as a
/// model's calls arrive: their schemas, errors returned as data, and the host's filter holding against arguments that
/// name another tenant, for reads and writes alike. The store, the embeddings and the plugin are real.
/// </summary>
public sealed class KnowledgeBaseFunctionsTests(SharedMiniLm miniLm) : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        this._directory.Dispose();
    }

    [Fact]
    public async Task TheFunctionsAreThePluginsWithSchemasThatNameTheirParameters()
    {
        await using var knowledge = KnowledgeKernel.Create(miniLm.Generator, this._directory.Combine("store"));
        var functions = KnowledgeBaseFunctions.Create(Plugin(knowledge));

        Assert.Equal(["search", "ask", "index_text", "forget_document"], functions.Select(f => f.Name));
        Assert.All(functions, f => Assert.Equal(knowledge.Kernel.Plugins["knowledge"][f.Name].Description, f.Description));
        string[] Properties(string name) => [.. functions.Single(f => f.Name == name).JsonSchema.GetProperty("properties").EnumerateObject().Select(p => p.Name)];
        string[] Required(string name) => [.. functions.Single(f => f.Name == name).JsonSchema.GetProperty("required").EnumerateArray().Select(e => e.GetString()!)];
        Assert.Equal(["query", "top", "source", "documentId"], Properties("search"));
        Assert.Equal(["question", "top", "source", "documentId", "image"], Properties("ask"));
        Assert.Equal(["text", "documentId", "title", "source"], Properties("index_text"));
        Assert.Equal(["documentId"], Properties("forget_document"));
        Assert.Equal(["query"], Required("search"));
        Assert.Equal(["question"], Required("ask"));
        Assert.Equal(["text"], Required("index_text"));
        Assert.Equal(["documentId"], Required("forget_document"));
        Assert.All(functions.SelectMany(f => f.JsonSchema.GetProperty("properties").EnumerateObject()), p => Assert.False(string.IsNullOrWhiteSpace(p.Value.GetProperty("description").GetString()), p.Name));

        Assert.Equal("index_file", Assert.Single(KnowledgeBaseFunctions.Create(Plugin(knowledge), ["index_file"])).Name);
        Assert.Throws<ArgumentException>(() => KnowledgeBaseFunctions.Create(Plugin(knowledge), ["delete_everything"]));
    }

    [Fact]
    public async Task AnAgentsCallsGetErrorsAsDataAndNothingOutsideTheHostsFilter()
    {
        var ct = TestContext.Current.CancellationToken;
        string store = this._directory.Combine("store");
        await using (var operatorKnowledge = KnowledgeKernel.Create(miniLm.Generator, store))
        {
            await IndexAsync(operatorKnowledge);
        }

        await using var knowledge = KnowledgeKernel.Create(miniLm.Generator, store, o => o.Retrieval = RetrievalOptions.Default with { Filter = new PassageFilter { SourcePrefix = TenantA } });
        var model = new ScriptedChatClient(
            Calls(
                ("search", new() { ["query"] = "" }),
                ("search", new() { ["query"] = $"payroll code {SecretWord}", ["source"] = TenantB }),
                ("search", new() { ["query"] = $"payroll code {SecretWord}", ["source"] = TenantA + "../" + TenantB }),
                ("search", new() { ["query"] = $"payroll code {SecretWord}", ["documentId"] = PayrollId }),
                ("search", new() { ["query"] = $"payroll code {SecretWord}" }),
                ("forget_document", new() { ["documentId"] = PayrollId }),
                ("index_text", new() { ["text"] = "The payroll code is now public.", ["documentId"] = PayrollId, ["source"] = TenantB + "payroll.md" }),
                ("index_text", new() { ["text"] = "   " }),
                ("ask", new() { ["question"] = "What is the payroll code?" })),
            Says("Nothing of tenant B."));
        AIAgent agent = new ChatClientAgent(model, new ChatClientAgentOptions { ChatOptions = new ChatOptions { Tools = [.. KnowledgeBaseFunctions.Create(Plugin(knowledge))] } });

        var response = await agent.RunAsync("What is tenant B's payroll code?", await agent.CreateSessionAsync(ct), cancellationToken: ct);

        Assert.Equal("Nothing of tenant B.", response.Text);
        var results = model.Requests[1];
        var empty = ResultOf<SearchResults>(results, "call-1");
        Assert.Empty(empty.Passages);
        Assert.Equal("the query is empty; give a question or keywords to search for.", empty.Error);
        foreach (string call in new[] { "call-2", "call-3", "call-4" })
        {
            var found = ResultOf<SearchResults>(results, call);
            Assert.Empty(found.Passages);
            Assert.Contains("among the passages this knowledge base may show", found.Error, StringComparison.Ordinal);
        }

        var plain = ResultOf<SearchResults>(results, "call-5");
        Assert.NotEmpty(plain.Passages);
        Assert.All(plain.Passages, p => Assert.StartsWith(TenantA, p.Source, StringComparison.Ordinal));
        Assert.DoesNotContain(SecretWord, TextOf(model.Requests.SelectMany(r => r)), StringComparison.Ordinal);

        var forgotten = ResultOf<ForgetResult>(results, "call-6");
        Assert.False(forgotten.Removed);
        Assert.Contains("no document 'tenantB-payroll'", forgotten.Error, StringComparison.Ordinal);
        Assert.Contains("outside what this knowledge base may change", ResultOf<IndexResult>(results, "call-7").Error, StringComparison.Ordinal);
        Assert.Equal("the text is empty; give the text to add.", ResultOf<IndexResult>(results, "call-8").Error);
        Assert.StartsWith("ask is not available: no answering model is configured", ResultOf<AnswerResult>(results, "call-9").Error, StringComparison.Ordinal);

        // Tenant B's document is still there, as it was.
        var payroll = await Retriever(knowledge).RetrieveAsync(SecretWord, new RetrievalOptions { Filter = new PassageFilter { DocumentIds = [PayrollId] } }, ct);
        Assert.Contains(SecretWord, Assert.Single(payroll).Text, StringComparison.Ordinal);
    }
}
