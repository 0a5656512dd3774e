using T5Gemma2.Rag.Indexer.Stores.Fields;

namespace T5Gemma2.Rag.Indexer.Stores;

/// <summary>
/// Metadata conditions a passage must meet to be returned; all set conditions must hold (AND). An empty filter
/// matches everything.
/// </summary>
public sealed class PassageFilter
{
    private static readonly IReadOnlyDictionary<string, string> s_noTags = new Dictionary<string, string>();

    /// <summary>Only passages of these documents (any of them).</summary>
    public IReadOnlyCollection<string>? DocumentIds { get; init; }

    /// <summary>Only passages whose source starts with this (ordinal).</summary>
    public string? SourcePrefix { get; init; }

    /// <summary>Only passages carrying every one of these tags with the same value.</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    /// <summary>Only passages written at or after this time.</summary>
    public DateTimeOffset? IndexedAfter { get; init; }

    /// <summary>Only passages whose typed fields meet this condition (a record filter of the VectorData connector).</summary>
    public FieldCondition? Fields { get; init; }

    /// <summary>True when no condition is set.</summary>
    public bool IsEmpty => (this.DocumentIds is null || this.DocumentIds.Count == 0) && this.SourcePrefix is null
        && (this.Tags is null || this.Tags.Count == 0) && this.IndexedAfter is null && this.Fields is null;

    /// <summary>The filter that matches everything.</summary>
    public static PassageFilter None { get; } = new();

    /// <summary>
    /// The filter that both this and <paramref name="other"/> hold for (AND): document ids intersected, the longer of two
    /// nested source prefixes, tags joined, the later date. Null when no passage can meet both (disjoint document sets,
    /// prefixes neither of which starts with the other, one tag with two values). This is how a caller's filter narrows a
    /// host's: it can never widen it.
    /// </summary>
    public PassageFilter? Intersect(PassageFilter other)
    {
        ArgumentNullException.ThrowIfNull(other);
        IReadOnlyCollection<string>? ids = Given(this.DocumentIds) ?? Given(other.DocumentIds);
        if (Given(this.DocumentIds) is { } mine && Given(other.DocumentIds) is { } theirs)
        {
            var both = new HashSet<string>(mine, StringComparer.Ordinal);
            both.IntersectWith(theirs);
            if (both.Count == 0)
            {
                return null;
            }

            ids = both;
        }

        string? prefix = this.SourcePrefix ?? other.SourcePrefix;
        if (this.SourcePrefix is { } a && other.SourcePrefix is { } b)
        {
            prefix = a.StartsWith(b, StringComparison.Ordinal) ? a : b.StartsWith(a, StringComparison.Ordinal) ? b : null;
            if (prefix is null)
            {
                return null;
            }
        }

        Dictionary<string, string>? tags = null;
        foreach (var (key, value) in (this.Tags ?? s_noTags).Concat(other.Tags ?? s_noTags))
        {
            tags ??= new Dictionary<string, string>(StringComparer.Ordinal);
            if (tags.TryGetValue(key, out string? existing) && existing != value)
            {
                return null;
            }

            tags[key] = value;
        }

        DateTimeOffset? after = this.IndexedAfter is { } x && other.IndexedAfter is { } y ? (x > y ? x : y) : this.IndexedAfter ?? other.IndexedAfter;
        var fields = this.Fields is { } f && other.Fields is { } g ? new FieldCondition.And(f, g) : this.Fields ?? other.Fields;
        return new PassageFilter { DocumentIds = ids, SourcePrefix = prefix, Tags = tags, IndexedAfter = after, Fields = fields };
    }

    private static IReadOnlyCollection<string>? Given(IReadOnlyCollection<string>? ids) => ids is { Count: > 0 } ? ids : null;
}
