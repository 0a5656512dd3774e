using Microsoft.SemanticKernel.Data;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Retrieval;

namespace T5Gemma2.Rag.SemanticKernel;

#pragma warning disable SKEXP0001 // ITextSearch<TRecord> is experimental in Semantic Kernel 1.82.
#pragma warning disable CS0618 // ITextSearch (non-generic) is obsolete in 1.82, yet it is the one TextSearchExtensions and TextSearchProvider take.

/// <summary>
/// Our retrieval (<see cref="PassageRetriever"/>: hybrid search, merging, per-document cap) as Semantic Kernel text
/// search, so SK's own RAG helpers work over a collection: <c>textSearch.CreateWithGetTextSearchResults("kb")</c> makes
/// a plugin, <c>new TextSearchProvider(textSearch)</c> adds passages to an agent's context.
/// </summary>
/// <remarks>
/// <para>Both interfaces: <see cref="ITextSearch{TRecord}"/> over <see cref="SearchResultItem"/> (current in SK 1.82,
/// experimental SKEXP0001, LINQ filters) and the non-generic <see cref="ITextSearch"/> (obsolete in 1.82, but the only
/// one TextSearchExtensions and TextSearchProvider accept).</para>
/// <para>A <see cref="TextSearchResult"/> has the title (else the file name), section and page as Name, the passage as
/// Value and the source path or URI as Link. Filters: LINQ on DocumentId (==, a list's Contains) and Source
/// (StartsWith, ordinal), joined with &amp;&amp;; legacy equality clauses on DocumentId, Source (a prefix) and
/// tag.&lt;name&gt;. Anything else throws <see cref="NotSupportedException"/> naming the filter, rather than being ignored.
/// A call's filter is ANDed with <c>defaults.Filter</c>: it narrows what the host allows and can never widen it.</para>
/// </remarks>
public sealed class T5Gemma2TextSearch : ITextSearch<SearchResultItem>, ITextSearch
{
    private readonly PassageRetriever _retriever;
    private readonly RetrievalOptions _defaults;

    /// <param name="retriever">Searches the collection.</param>
    /// <param name="defaults">Mode, fusion, threshold, caps and the host's filter; each call's Top and Skip replace theirs, and its filter narrows the host's.</param>
    public T5Gemma2TextSearch(PassageRetriever retriever, RetrievalOptions? defaults = null)
    {
        ArgumentNullException.ThrowIfNull(retriever);
        this._retriever = retriever;
        this._defaults = defaults ?? RetrievalOptions.Default;
        this._defaults.Validate();
    }

    /// <inheritdoc />
    public async Task<KernelSearchResults<string>> SearchAsync(string query, TextSearchOptions<SearchResultItem>? searchOptions = null, CancellationToken cancellationToken = default)
    {
        var (items, total) = await this.FindAsync(query, searchOptions, cancellationToken).ConfigureAwait(false);
        return Results(items.Select(i => i.Text), total);
    }

    /// <inheritdoc />
    public async Task<KernelSearchResults<TextSearchResult>> GetTextSearchResultsAsync(string query, TextSearchOptions<SearchResultItem>? searchOptions = null, CancellationToken cancellationToken = default)
    {
        var (items, total) = await this.FindAsync(query, searchOptions, cancellationToken).ConfigureAwait(false);
        return Results(items.Select(ToTextSearchResult), total);
    }

    /// <inheritdoc />
    public async Task<KernelSearchResults<SearchResultItem>> GetSearchResultsAsync(string query, TextSearchOptions<SearchResultItem>? searchOptions = null, CancellationToken cancellationToken = default)
    {
        var (items, total) = await this.FindAsync(query, searchOptions, cancellationToken).ConfigureAwait(false);
        return Results(items, total);
    }

    async Task<KernelSearchResults<string>> ITextSearch.SearchAsync(string query, TextSearchOptions? searchOptions, CancellationToken cancellationToken)
    {
        var (items, total) = await this.FindAsync(query, Generic(searchOptions), TextSearchFilters.FromLegacy(searchOptions?.Filter), cancellationToken).ConfigureAwait(false);
        return Results(items.Select(i => i.Text), total);
    }

    async Task<KernelSearchResults<TextSearchResult>> ITextSearch.GetTextSearchResultsAsync(string query, TextSearchOptions? searchOptions, CancellationToken cancellationToken)
    {
        var (items, total) = await this.FindAsync(query, Generic(searchOptions), TextSearchFilters.FromLegacy(searchOptions?.Filter), cancellationToken).ConfigureAwait(false);
        return Results(items.Select(ToTextSearchResult), total);
    }

    async Task<KernelSearchResults<object>> ITextSearch.GetSearchResultsAsync(string query, TextSearchOptions? searchOptions, CancellationToken cancellationToken)
    {
        var (items, total) = await this.FindAsync(query, Generic(searchOptions), TextSearchFilters.FromLegacy(searchOptions?.Filter), cancellationToken).ConfigureAwait(false);
        return Results(items.Cast<object>(), total);
    }

    private static TextSearchOptions<SearchResultItem>? Generic(TextSearchOptions? options) =>
        options is null ? null : new() { Top = options.Top, Skip = options.Skip, IncludeTotalCount = options.IncludeTotalCount };

    private static TextSearchResult ToTextSearchResult(SearchResultItem item) => new(item.Text) { Name = item.Heading(), Link = item.Source };

    private static KernelSearchResults<T> Results<T>(IEnumerable<T> items, long? total) => new(items.ToList().ToAsyncEnumerable(), total);

    private Task<(List<SearchResultItem> Items, long? Total)> FindAsync(string query, TextSearchOptions<SearchResultItem>? options, CancellationToken cancellationToken) =>
        this.FindAsync(query, options, TextSearchFilters.FromExpression(options?.Filter), cancellationToken);

    /// <summary>Retrieves Skip + Top passages and returns the last Top; the filter narrows the configured one; null filter: nothing can match.</summary>
    private async Task<(List<SearchResultItem> Items, long? Total)> FindAsync(string query, TextSearchOptions<SearchResultItem>? options, PassageFilter? filter, CancellationToken cancellationToken)
    {
        int top = options?.Top ?? TextSearchOptions<SearchResultItem>.DefaultTop;
        int skip = options?.Skip ?? 0;
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1, "searchOptions.Top");
        ArgumentOutOfRangeException.ThrowIfNegative(skip, "searchOptions.Skip");
        ArgumentException.ThrowIfNullOrWhiteSpace(query);
        if (filter is null || this._defaults.Narrowed(skip + top, filter) is not { } retrieval)
        {
            return ([], options?.IncludeTotalCount == true ? 0 : null);
        }

        var passages = await this._retriever.RetrieveAsync(query, retrieval, cancellationToken).ConfigureAwait(false);
        var items = passages.Select((p, i) => SearchResultItem.From(p, i + 1)).Skip(skip).ToList();
        return (items, options?.IncludeTotalCount == true ? passages.Count : null);
    }
}
