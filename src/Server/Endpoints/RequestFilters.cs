using T5Gemma2.Rag.Indexer.Stores;

namespace T5Gemma2.Rag.Server.Endpoints;

/// <summary>The <c>filters</c> object of search, ask and chat requests: every condition set must hold.</summary>
public sealed class RequestFilters
{
    /// <summary>Only passages of this document.</summary>
    public string? DocumentId { get; init; }

    /// <summary>Only passages of these documents (any of them).</summary>
    public IReadOnlyList<string>? DocumentIds { get; init; }

    /// <summary>Only passages whose source starts with this.</summary>
    public string? Source { get; init; }

    /// <summary>Only passages carrying every one of these tags.</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    /// <summary>Only passages indexed at or after this time.</summary>
    public DateTimeOffset? After { get; init; }

    internal (PassageFilter? Filter, string? Problem, string? Field) ToFilter()
    {
        List<string> ids = [.. this.DocumentIds ?? [], .. this.DocumentId is { } one ? [one] : Array.Empty<string>()];
        if (ids.Any(string.IsNullOrWhiteSpace))
        {
            return (null, "filters.document_ids: a document id is empty.", "filters.document_ids");
        }

        if (this.Tags?.FirstOrDefault(t => string.IsNullOrWhiteSpace(t.Key)) is { Key: not null })
        {
            return (null, "filters.tags: a tag name is empty.", "filters.tags");
        }

        return (new PassageFilter
        {
            DocumentIds = ids.Count == 0 ? null : ids,
            SourcePrefix = string.IsNullOrEmpty(this.Source) ? null : this.Source,
            Tags = this.Tags is { Count: > 0 } tags ? tags : null,
            IndexedAfter = this.After,
        }, null, null);
    }
}
