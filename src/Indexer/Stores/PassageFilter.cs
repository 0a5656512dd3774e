namespace T5Gemma2.Rag.Indexer.Stores;

/// <summary>
/// Metadata conditions a passage must meet to be returned; all set conditions must hold (AND). An empty filter
/// matches everything.
/// </summary>
public sealed class PassageFilter
{
    /// <summary>Only passages of these documents (any of them).</summary>
    public IReadOnlyCollection<string>? DocumentIds { get; init; }

    /// <summary>Only passages whose source starts with this (ordinal).</summary>
    public string? SourcePrefix { get; init; }

    /// <summary>Only passages carrying every one of these tags with the same value.</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    /// <summary>Only passages written at or after this time.</summary>
    public DateTimeOffset? IndexedAfter { get; init; }

    /// <summary>True when no condition is set.</summary>
    public bool IsEmpty => (this.DocumentIds is null || this.DocumentIds.Count == 0) && this.SourcePrefix is null
        && (this.Tags is null || this.Tags.Count == 0) && this.IndexedAfter is null;

    /// <summary>The filter that matches everything.</summary>
    public static PassageFilter None { get; } = new();
}
