using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Retrieval;

namespace T5Gemma2.Rag.SemanticKernel;

/// <summary>A call's top and filter over configured retrieval defaults.</summary>
internal static class RetrievalOverrides
{
    /// <summary>
    /// The host's retrieval with a caller's top, and the caller's filter ANDed with the host's: a model's arguments narrow
    /// what the host allows (a tenant's folder, a tag), never replace it. Null when no passage can meet both.
    /// </summary>
    public static RetrievalOptions? Narrowed(this RetrievalOptions host, int top, PassageFilter caller) =>
        host.Filter.Intersect(caller) is { } filter ? host with { Top = top, Filter = filter } : null;

    /// <summary>The filter a call's arguments ask for, before the host's is applied.</summary>
    public static PassageFilter CallerFilter(string? source, string? documentId) => new()
    {
        SourcePrefix = string.IsNullOrWhiteSpace(source) ? null : source.Trim(),
        DocumentIds = string.IsNullOrWhiteSpace(documentId) ? null : [documentId.Trim()],
    };

    /// <summary>The filter in words, for messages: "source starting with '…', document '…'".</summary>
    public static string Describe(PassageFilter filter)
    {
        var parts = new List<string>();
        if (filter.SourcePrefix is { } prefix)
        {
            parts.Add($"source starting with '{prefix}'");
        }

        if (filter.DocumentIds is { Count: > 0 } ids)
        {
            parts.Add(ids.Count == 1 ? $"document '{ids.First()}'" : $"documents {string.Join(", ", ids.Select(i => $"'{i}'"))}");
        }

        if (filter.Tags is { Count: > 0 } tags)
        {
            parts.Add($"tags {string.Join(", ", tags.Select(t => $"{t.Key}={t.Value}"))}");
        }

        if (filter.IndexedAfter is { } after)
        {
            parts.Add($"indexed after {after:O}");
        }

        return string.Join(", ", parts);
    }
}
