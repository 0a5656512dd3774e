namespace T5Gemma2.Rag.Agents;

/// <summary>What the provider's search function returns to the model: the passages numbered [n], or why there are none.</summary>
/// <param name="Context">The passages with their numbered headers (title, source, section, page); null when <paramref name="Error"/> is set.</param>
/// <param name="Error">Why nothing was found (an empty query, an empty collection, a filter that matches nothing); null on success.</param>
public sealed record ContextSearchResult(string? Context, string? Error = null);
