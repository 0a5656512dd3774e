using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel.Data;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Retrieval;
using T5Gemma2.Rag.SemanticKernel;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.SemanticKernel;

#pragma warning disable CS0618 // ITextSearch (non-generic) and TextSearchFilter are obsolete in SK 1.82 but are what its RAG helpers pass.
#pragma warning disable SKEXP0001 // ITextSearch<TRecord> is experimental in SK 1.82.

/// <summary>
/// A host limits its knowledge base to tenant A's folder (<c>Retrieval.Filter</c>); tenant B's documents are in the same
/// collection. A model then asks for tenant B in every way the plugin's and ITextSearch's arguments allow. Nothing of
/// tenant B comes back, nothing of tenant B is changed or removed, and the messages say that nothing matched.
/// </summary>
public sealed class HostFilterAttackTests(SharedMiniLm miniLm) : IDisposable
{
    private const string SecretWord = "zanzibarquill";

    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        this._directory.Dispose();
    }

    [Fact]
    public async Task AModelsArgumentsNarrowTheHostsFilterAndNeverWidenIt()
    {
        string tenantA = this._directory.Combine("tenantA") + "/";
        string tenantB = this._directory.Combine("tenantB") + "/";
        this._directory.Write("tenantA/harbour.md", "# Harbour\n\nThe harbour master of tenant A logs every ship that enters the port.\n");
        string secret = this._directory.Write("tenantB/payroll.md", $"# Payroll\n\nTenant B's harbour payroll code is {SecretWord}; every ship that enters pays it.\n");
        string store = this._directory.Combine("store");
        string secretId = secret.Replace('\\', '/');

        // The operator indexes both tenants into one collection.
        await using (var operatorKernel = KnowledgeKernel.Create(miniLm.Generator, store))
        {
            Assert.Null((await operatorKernel.InvokeAsync<IndexResult>("index_file", new() { ["path"] = tenantA })).Error);
            Assert.Null((await operatorKernel.InvokeAsync<IndexResult>("index_file", new() { ["path"] = tenantB })).Error);
        }

        await using (var sut = KnowledgeKernel.Create(miniLm.Generator, store, o =>
        {
            o.Retrieval = new RetrievalOptions { Filter = new PassageFilter { SourcePrefix = tenantA }, ScoreThreshold = null };
            o.FileRoots = [this._directory.Path];
        }))
        {
            string query = $"harbour payroll code {SecretWord} ship";
            var plain = await sut.InvokeAsync<SearchResults>("search", new() { ["query"] = query });
            Assert.NotEmpty(plain.Passages);
            Assert.All(plain.Passages, p => Assert.StartsWith(tenantA, p.Source, StringComparison.Ordinal));

            string[] sources =
            [
                tenantB, secret, "/", string.Empty + this._directory.Path, tenantA + "../tenantB/", tenantA + "..%2FtenantB%2F",
                tenantA + "' OR 1=1 --", tenantA + "%", tenantA + "*", "%", "*", tenantB.Replace("/", "%2F", StringComparison.Ordinal), "\"" + tenantB + "\"",
            ];
            foreach (string source in sources)
            {
                var found = await sut.InvokeAsync<SearchResults>("search", new() { ["query"] = query, ["source"] = source });
                AssertNothingOfTenantB(found.Passages.Select(p => (p.Source, p.Text)), source);
                if (found.Passages.Count == 0)
                {
                    Assert.Contains("matches the filter", found.Error, StringComparison.Ordinal);
                    Assert.Contains("among the passages this knowledge base may show", found.Error, StringComparison.Ordinal);
                }

                var answer = await sut.InvokeAsync<AnswerResult>("ask", new() { ["question"] = query, ["source"] = source });
                Assert.All(answer.Citations, c => Assert.StartsWith(tenantA, c.Source, StringComparison.Ordinal));
            }

            var byId = await sut.InvokeAsync<SearchResults>("search", new() { ["query"] = query, ["documentId"] = secretId });
            Assert.Empty(byId.Passages);
            Assert.Contains($"matches the filter (document '{secretId}') among the passages this knowledge base may show", byId.Error, StringComparison.Ordinal);
            var both = await sut.InvokeAsync<SearchResults>("search", new() { ["query"] = query, ["documentId"] = secretId, ["source"] = tenantB });
            Assert.Empty(both.Passages);

            // ITextSearch, both flavours, with the filters Semantic Kernel's helpers send.
            var legacy = sut.Kernel.Services.GetRequiredService<ITextSearch>();
            foreach (var filter in new[]
            {
                new TextSearchFilter().Equality("Source", tenantB),
                new TextSearchFilter().Equality("Source", "/"),
                new TextSearchFilter().Equality("DocumentId", secretId),
                new TextSearchFilter().Equality("Source", tenantA + "../tenantB/"),
            })
            {
                var results = await legacy.GetSearchResultsAsync(query, new TextSearchOptions { Top = 10, Filter = filter }, TestContext.Current.CancellationToken);
                var items = await results.Results.Cast<SearchResultItem>().ToListAsync(TestContext.Current.CancellationToken);
                AssertNothingOfTenantB(items.Select(i => (i.Source, i.Text)), string.Join(",", filter.FilterClauses));
            }

            ITextSearch<SearchResultItem> generic = sut.Kernel.Services.GetRequiredService<T5Gemma2TextSearch>();
            string b = tenantB;
            foreach (var options in new TextSearchOptions<SearchResultItem>[]
            {
                new() { Top = 10, Filter = r => r.Source.StartsWith(b, StringComparison.Ordinal) },
                new() { Top = 10, Filter = r => r.Source.StartsWith("/") },
                new() { Top = 10, Filter = r => r.DocumentId == secretId },
                new() { Top = 10, Filter = r => new[] { secretId }.Contains(r.DocumentId) },
            })
            {
                var results = await generic.GetSearchResultsAsync(query, options, TestContext.Current.CancellationToken);
                var items = await results.Results.ToListAsync(TestContext.Current.CancellationToken);
                AssertNothingOfTenantB(items.Select(i => (i.Source, i.Text)), options.Filter!.ToString());
            }

            // Writes: tenant B's document cannot be replaced, removed, or written next to.
            var overwrite = await sut.InvokeAsync<IndexResult>("index_text", new() { ["text"] = "replaced by tenant A", ["documentId"] = secretId, ["source"] = tenantA + "x.md" });
            Assert.Contains("outside what this knowledge base may change", overwrite.Error, StringComparison.Ordinal);
            var intoB = await sut.InvokeAsync<IndexResult>("index_text", new() { ["text"] = "planted in tenant B", ["source"] = tenantB + "planted.md" });
            Assert.Contains("outside what this knowledge base may change", intoB.Error, StringComparison.Ordinal);
            var forget = await sut.InvokeAsync<ForgetResult>("forget_document", new() { ["documentId"] = secretId });
            Assert.False(forget.Removed);
            var forgetMissing = await sut.InvokeAsync<ForgetResult>("forget_document", new() { ["documentId"] = tenantB + "never-indexed.md" });
            Assert.Equal(forgetMissing.Error!.Replace("never-indexed.md", "payroll.md", StringComparison.Ordinal), forget.Error); // "not yours" reads as "not there"
            var fileOfB = await sut.InvokeAsync<IndexResult>("index_file", new() { ["path"] = secret });
            Assert.Contains("outside what this knowledge base may change", fileOfB.Error, StringComparison.Ordinal);

            // A write inside tenant A works, and lands where the host's filter shows it.
            var note = await sut.InvokeAsync<IndexResult>("index_text", new() { ["text"] = "The lighthouse of tenant A is painted red.", ["documentId"] = "a-note" });
            Assert.Null(note.Error);
            var lighthouse = await sut.InvokeAsync<SearchResults>("search", new() { ["query"] = "lighthouse painted red" });
            Assert.Contains(lighthouse.Passages, p => p.Source == tenantA + "a-note");
        }

        // Tenant B's document is untouched.
        await using var check = KnowledgeKernel.Create(miniLm.Generator, store);
        var stillThere = await check.InvokeAsync<SearchResults>("search", new() { ["query"] = $"payroll code {SecretWord}", ["documentId"] = secretId });
        Assert.Contains(SecretWord, Assert.Single(stillThere.Passages).Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALinkInsideOneTenantsFolderDoesNotPullInAnothersFiles()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "symbolic links need a privilege on Windows");
        string tenantA = this._directory.Combine("tenantA") + "/";
        this._directory.Write("tenantA/own.md", "# Own\n\nTenant A's own notes.\n");
        this._directory.Write("tenantB/payroll.md", $"# Payroll\n\n{SecretWord}\n");
        Directory.CreateSymbolicLink(this._directory.Combine("tenantA", "b"), this._directory.Combine("tenantB"));

        await using var sut = KnowledgeKernel.Create(miniLm.Generator, this._directory.Combine("store"), o =>
        {
            o.Retrieval = new RetrievalOptions { Filter = new PassageFilter { SourcePrefix = tenantA } };
            o.FileRoots = [this._directory.Path];
        });

        var indexed = await sut.InvokeAsync<IndexResult>("index_file", new() { ["path"] = tenantA });
        Assert.Null(indexed.Error);
        Assert.Equal(1, indexed.DocumentsNew);
        Assert.EndsWith("b: outside the allowed folders", Assert.Single(indexed.Failures), StringComparison.Ordinal);
        var found = await sut.InvokeAsync<SearchResults>("search", new() { ["query"] = SecretWord, ["top"] = 10 });
        Assert.All(found.Passages, p => Assert.DoesNotContain(SecretWord, p.Text, StringComparison.Ordinal));
    }

    [Fact]
    public void EveryRetrievalSettingOfTheHostIsKept()
    {
        var host = new RetrievalOptions
        {
            Top = 3, Mode = SearchMode.Dense, Fusion = FusionMethod.Convex, DenseWeight = 0.8, ScoreThreshold = 0.25, MaxPassagesPerDocument = 7,
            MergeAdjacent = false, Rerank = true, CandidateFactor = 9, Filter = new PassageFilter { SourcePrefix = "/kb/" },
        };

        var narrowed = host.Narrowed(5, new PassageFilter { SourcePrefix = "/kb/a/" })!;

        foreach (var property in typeof(RetrievalOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.Name is not nameof(RetrievalOptions.Top) and not nameof(RetrievalOptions.Filter)))
        {
            Assert.True(Equals(property.GetValue(host), property.GetValue(narrowed)), $"RetrievalOptions.{property.Name} was dropped");
            Assert.False(Equals(property.GetValue(host), property.GetValue(RetrievalOptions.Default)), $"set RetrievalOptions.{property.Name} to a non-default value in this test");
        }

        Assert.Equal((5, "/kb/a/"), (narrowed.Top, narrowed.Filter.SourcePrefix));
        Assert.Null(host.Narrowed(5, new PassageFilter { SourcePrefix = "/other/" }));
    }

    [Fact]
    public void FiltersIntersect()
    {
        var host = new PassageFilter { SourcePrefix = "/kb/a/", DocumentIds = ["1", "2"], Tags = new Dictionary<string, string> { ["team"] = "x" }, IndexedAfter = DateTimeOffset.UnixEpoch.AddDays(2) };

        var both = host.Intersect(new PassageFilter { SourcePrefix = "/kb/", DocumentIds = ["2", "3"], Tags = new Dictionary<string, string> { ["lang"] = "en" }, IndexedAfter = DateTimeOffset.UnixEpoch })!;

        Assert.Equal("/kb/a/", both.SourcePrefix);
        Assert.Equal(["2"], both.DocumentIds!);
        Assert.Equal(new Dictionary<string, string> { ["team"] = "x", ["lang"] = "en" }, both.Tags);
        Assert.Equal(DateTimeOffset.UnixEpoch.AddDays(2), both.IndexedAfter);
        Assert.Null(host.Intersect(new PassageFilter { SourcePrefix = "/kb/b/" }));
        Assert.Null(host.Intersect(new PassageFilter { DocumentIds = ["3"] }));
        Assert.Null(host.Intersect(new PassageFilter { Tags = new Dictionary<string, string> { ["team"] = "y" } }));
        Assert.Equal("/kb/a/x", host.Intersect(new PassageFilter { SourcePrefix = "/kb/a/x" })!.SourcePrefix);
        Assert.Same(host.SourcePrefix, PassageFilter.None.Intersect(host)!.SourcePrefix);
    }

    private static void AssertNothingOfTenantB(IEnumerable<(string Source, string Text)> passages, string attack)
    {
        foreach (var (source, text) in passages)
        {
            Assert.False(text.Contains(SecretWord, StringComparison.Ordinal), $"tenant B's passage came back for {attack}: {source}");
            Assert.Contains("tenantA", source, StringComparison.Ordinal);
        }
    }
}
