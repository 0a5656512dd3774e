namespace T5Gemma2.Rag.SemanticKernel;

/// <summary>What the search function returns: the passages best first, or why there are none.</summary>
/// <param name="Passages">The passages found, best first.</param>
/// <param name="Error">Why nothing could be searched or found (empty query, empty collection, a filter that matches nothing); null on success.</param>
public sealed record SearchResults(IReadOnlyList<SearchResultItem> Passages, string? Error = null)
{
    internal static SearchResults Failed(string error) => new([], error);
}
