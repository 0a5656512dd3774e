using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.Data;
using T5Gemma2.Rag.SemanticKernel;
using T5Gemma2.Rag.Tests.Infrastructure;
using T5Gemma2.Rag.Tests.Pipeline;

namespace T5Gemma2.Rag.Tests.SemanticKernel;

#pragma warning disable SKEXP0001, SKEXP0130 // SK's text search and TextSearchProvider are experimental in 1.82.
#pragma warning disable CS0618 // ITextSearch (non-generic) is obsolete in 1.82 but is what SK's own RAG helpers take.

/// <summary>Our retrieval as Semantic Kernel text search, used by SK's own helpers: a search plugin, TextSearchProvider, LINQ filters.</summary>
public sealed class T5Gemma2TextSearchTests(SharedMiniLm miniLm) : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        this._directory.Dispose();
    }

    [Fact]
    public async Task SemanticKernelsSearchPluginAndTextSearchProviderRunOnOurRetrieval()
    {
        var (sut, records) = await this.IndexedAsync();
        await using var _ = sut;
        var textSearch = sut.Kernel.Services.GetRequiredService<ITextSearch>();
        Assert.Same(sut.Kernel.Services.GetRequiredService<T5Gemma2TextSearch>(), textSearch);

        sut.Kernel.Plugins.Add(textSearch.CreateWithGetTextSearchResults("kb"));
        var result = await sut.Kernel.InvokeAsync("kb", "GetTextSearchResults", new() { ["query"] = records[3].Title, ["count"] = 2 }, TestContext.Current.CancellationToken);
        var hits = result.GetValue<IEnumerable<TextSearchResult>>()!.ToList();
        Assert.InRange(hits.Count, 1, 2);
        Assert.StartsWith(records[3].Title, hits[0].Name, StringComparison.Ordinal);
        Assert.EndsWith("0003.md", hits[0].Link, StringComparison.Ordinal);
        Assert.Contains(records[3].Text[..40], hits[0].Value, StringComparison.Ordinal);

        var provider = new TextSearchProvider(textSearch, options: new TextSearchProviderOptions { Top = 2 });
        var context = await provider.ModelInvokingAsync([new ChatMessage(ChatRole.User, $"Tell me about {records[7].Title}")], TestContext.Current.CancellationToken);
        Assert.Contains(records[7].Text[..40], context.Instructions, StringComparison.Ordinal);
        Assert.Contains("0007.md", context.Instructions, StringComparison.Ordinal);

        var legacy = await textSearch.GetSearchResultsAsync(records[3].Title, new TextSearchOptions { Top = 5, Filter = new TextSearchFilter().Equality("DocumentId", hits[0].Link!.Replace('\\', '/')) }, TestContext.Current.CancellationToken);
        var items = await legacy.Results.Cast<SearchResultItem>().ToListAsync(TestContext.Current.CancellationToken);
        Assert.NotEmpty(items);
        Assert.All(items, i => Assert.EndsWith("0003.md", i.Source, StringComparison.Ordinal));
    }

    [Fact]
    public async Task LinqFiltersBecomeStoreFiltersAndOthersAreRefused()
    {
        var (sut, records) = await this.IndexedAsync();
        await using var _ = sut;
        ITextSearch<SearchResultItem> search = sut.Kernel.Services.GetRequiredService<T5Gemma2TextSearch>();
        var all = await Items(search, records[5].Title, new() { Top = 5, IncludeTotalCount = true });
        string source = all.Items[0].Source;
        string prefix = Path.GetDirectoryName(source)!;
        Assert.Equal(all.Items.Count, all.Total);

        var bySource = await Items(search, records[2].Title, new() { Top = 3, Filter = r => r.Source.StartsWith(prefix + "/000", StringComparison.Ordinal) });
        Assert.NotEmpty(bySource.Items);
        Assert.All(bySource.Items, i => Assert.StartsWith(prefix + "/000", i.Source, StringComparison.Ordinal));

        string id = all.Items[1].DocumentId;
        var byId = await Items(search, records[5].Title, new() { Top = 3, Filter = r => r.DocumentId == id });
        Assert.All(byId.Items, i => Assert.Equal(id, i.DocumentId));
        string[] ids = [all.Items[1].DocumentId, all.Items[2].DocumentId];
        var byIds = await Items(search, records[5].Title, new() { Top = 5, Filter = r => ids.Contains(r.DocumentId) && r.Source.StartsWith(prefix) });
        Assert.All(byIds.Items, i => Assert.Contains(i.DocumentId, ids));

        var contradiction = await Items(search, records[5].Title, new() { Filter = r => r.DocumentId == ids[0] && r.DocumentId == ids[1] });
        Assert.Empty(contradiction.Items);

        var skipped = await Items(search, records[5].Title, new() { Top = 2, Skip = 1 });
        Assert.Equal(all.Items[1].Text, skipped.Items[0].Text);
        Assert.Equal(2, skipped.Items[0].Rank);

        var unsupported = await Assert.ThrowsAsync<NotSupportedException>(() => Items(search, "ships", new() { Filter = r => r.Title == "Ships" }));
        Assert.Contains("filters on DocumentId", unsupported.Message, StringComparison.Ordinal);
    }

    private static async Task<(List<SearchResultItem> Items, long? Total)> Items(ITextSearch<SearchResultItem> search, string query, TextSearchOptions<SearchResultItem> options)
    {
        var results = await search.GetSearchResultsAsync(query, options, TestContext.Current.CancellationToken);
        return (await results.Results.ToListAsync(TestContext.Current.CancellationToken), results.TotalCount);
    }

    private async Task<(KnowledgeKernel Kernel, List<(string Id, string Title, string Text)> Records)> IndexedAsync()
    {
        var records = TestCorpus.Records(12);
        string docs = this._directory.Combine("docs");
        TestCorpus.WriteMarkdown(docs, records);
        var sut = KnowledgeKernel.Create(miniLm.Generator, this._directory.Combine("store"));
        await sut.InvokeAsync<IndexResult>("index_file", new() { ["path"] = docs });
        return (sut, records);
    }
}
