using System.Text;
using Qdrant.Client.Grpc;
using T5Gemma2.Rag.Indexer.Stores.Fields;
using FieldCondition = T5Gemma2.Rag.Indexer.Stores.Fields.FieldCondition;
using static Qdrant.Client.Grpc.Conditions;

namespace T5Gemma2.Rag.Indexer.Stores.Qdrant;

/// <summary>
/// Translates <see cref="PassageFilter"/> into Qdrant filters over the keyword/integer payload indexes
/// (<see cref="QdrantSchema"/>), and derives the indexed fields those filters need from a passage.
/// </summary>
public static class QdrantFilters
{
    /// <summary>The most directory prefixes kept per source: deeper paths still filter exactly, through the client-side check.</summary>
    public const int MaxSourceDirectories = 64;

    /// <summary>
    /// The filter as Qdrant runs it: documents (any of), tags (each "key=value" in the tag_pairs index, or the tenant
    /// field for <paramref name="tenantTag"/>), indexed-after (integer range on Unix milliseconds), and the source prefix
    /// through the source_dirs index (exact when it ends at a separator; otherwise narrowed to its directory and
    /// finished on the client, see <see cref="QdrantFilterPlan.ClientSourcePrefix"/>).
    /// </summary>
    public static QdrantFilterPlan Translate(PassageFilter filter, string? tenantTag = null)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var must = new List<Condition>();
        if (filter.DocumentIds is { Count: > 0 } documents)
        {
            must.Add(documents.Count == 1 ? MatchKeyword(QdrantSchema.DocumentId, documents.First()) : Match(QdrantSchema.DocumentId, [.. documents]));
        }

        string? clientPrefix = null;
        if (filter.SourcePrefix is { Length: > 0 } prefix)
        {
            string directory = EnclosingDirectory(prefix);
            if (directory.Length > 0)
            {
                must.Add(MatchKeyword(QdrantSchema.SourceDirectories, directory));
            }

            clientPrefix = directory.Length == prefix.Length ? null : prefix;
        }

        if (filter.Tags is { Count: > 0 } tags)
        {
            foreach (var (key, value) in tags.OrderBy(t => t.Key, StringComparer.Ordinal))
            {
                must.Add(key == tenantTag ? MatchKeyword(QdrantSchema.Tenant, value) : MatchKeyword(QdrantSchema.TagPairs, TagPair(key, value)));
            }
        }

        if (filter.IndexedAfter is { } after)
        {
            must.Add(Range(QdrantSchema.IndexedAt, new global::Qdrant.Client.Grpc.Range { Gte = after.ToUnixTimeMilliseconds() }));
        }

        if (filter.Fields is { } fields)
        {
            must.Add(Translate(fields));
        }

        return new QdrantFilterPlan(must.Count == 0 ? null : new Filter { Must = { must } }, clientPrefix);
    }

    /// <summary>
    /// A field condition as Qdrant's: keyword, integer and bool matches (a list field matches when any element does, which
    /// is what <see cref="FieldCondition.ListContains"/> asks), ranges for doubles (equality too, since Qdrant matches no
    /// floats), datetime ranges for timestamps (equality as their stored text), is_empty for null, and should / must_not
    /// for OR and NOT (must_not of a condition on a missing field holds, as C# reads <c>!(r.Rating &gt; 3)</c> for null).
    /// </summary>
    public static Condition Translate(FieldCondition condition) => condition switch
    {
        FieldCondition.DocumentIn d => d.DocumentIds.Count == 1 ? MatchKeyword(QdrantSchema.DocumentId, d.DocumentIds[0]) : Match(QdrantSchema.DocumentId, [.. d.DocumentIds]),
        FieldCondition.Equal e => Equal(QdrantSchema.FieldKey(e.Field), e.Value),
        FieldCondition.ListContains l => Equal(QdrantSchema.FieldKey(l.Field), l.Value),
        FieldCondition.In i when i.Values.All(v => v is string) => Match(QdrantSchema.FieldKey(i.Field), [.. i.Values.Cast<string>()]),
        FieldCondition.In i when i.Values.All(v => v is long) => Match(QdrantSchema.FieldKey(i.Field), [.. i.Values.Cast<long>()]),
        FieldCondition.In i => Conditions.Filter(new Filter { Should = { i.Values.Select(v => Equal(QdrantSchema.FieldKey(i.Field), v)) } }),
        FieldCondition.Compare c => Compare(QdrantSchema.FieldKey(c.Field), c.Comparison, c.Value),
        FieldCondition.And a => Conditions.Filter(new Filter { Must = { Translate(a.Left), Translate(a.Right) } }),
        FieldCondition.Or o => Conditions.Filter(new Filter { Should = { Translate(o.Left), Translate(o.Right) } }),
        FieldCondition.Not n => Conditions.Filter(new Filter { MustNot = { Translate(n.Operand) } }),
        _ => throw new NotSupportedException($"the Qdrant store cannot run the field condition {condition.GetType().Name}."),
    };

    /// <summary>Adds <paramref name="condition"/> to <paramref name="filter"/> (AND), or makes a filter of it alone.</summary>
    public static Filter And(Filter? filter, Condition condition)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var combined = filter?.Clone() ?? new Filter();
        combined.Must.Add(condition);
        return combined;
    }

    /// <summary>Points of one kind (<see cref="QdrantSchema.PassageKind"/> or <see cref="QdrantSchema.DocumentKind"/>).</summary>
    public static Condition OfKind(string kind) => MatchKeyword(QdrantSchema.Kind, kind);

    /// <summary>
    /// Every prefix of <paramref name="source"/> that ends at a '/' or '\' ("/src/docs/a.md" → "/", "/src/",
    /// "/src/docs/"): stored per passage so a directory filter is one keyword match.
    /// </summary>
    public static IReadOnlyList<string> SourceDirectories(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var directories = new List<string>();
        for (int i = 0; i < source.Length && directories.Count < MaxSourceDirectories; i++)
        {
            if (source[i] is '/' or '\\')
            {
                directories.Add(source[..(i + 1)]);
            }
        }

        return directories;
    }

    /// <summary>A tag as one keyword, "key=value", with '\' and '=' in the key escaped so no two tags share a pair.</summary>
    public static string TagPair(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        var builder = new StringBuilder(key.Length + value.Length + 2);
        foreach (char c in key)
        {
            if (c is '\\' or '=')
            {
                builder.Append('\\');
            }

            builder.Append(c);
        }

        return builder.Append('=').Append(value).ToString();
    }

    private static Condition Equal(string key, object? value) => value switch
    {
        null => IsEmpty(key),
        string text => MatchKeyword(key, text),
        long whole => Match(key, whole),
        bool flag => Match(key, flag),
        double number => Range(key, new global::Qdrant.Client.Grpc.Range { Gte = number, Lte = number }),
        DateTimeOffset time => MatchKeyword(key, PassageFields.FormatTimestamp(time)),
        _ => throw new NotSupportedException($"the Qdrant store cannot compare field '{key}' with a {value.GetType().Name}."),
    };

    private static Condition Compare(string key, FieldComparison comparison, object value)
    {
        if (value is DateTimeOffset time)
        {
            DateTime utc = time.UtcDateTime;
            return comparison switch
            {
                FieldComparison.LessThan => DatetimeRange(key, lt: utc),
                FieldComparison.LessThanOrEqual => DatetimeRange(key, lte: utc),
                FieldComparison.GreaterThan => DatetimeRange(key, gt: utc),
                _ => DatetimeRange(key, gte: utc),
            };
        }

        double bound = value switch
        {
            long whole => whole,
            double number => number,
            _ => throw new NotSupportedException($"the Qdrant store compares only numbers and timestamps, not field '{key}' with a {value.GetType().Name}."),
        };
        var range = new global::Qdrant.Client.Grpc.Range();
        switch (comparison)
        {
            case FieldComparison.LessThan: range.Lt = bound; break;
            case FieldComparison.LessThanOrEqual: range.Lte = bound; break;
            case FieldComparison.GreaterThan: range.Gt = bound; break;
            default: range.Gte = bound; break;
        }

        return Range(key, range);
    }

    /// <summary>
    /// The longest prefix of <paramref name="prefix"/> that ends at a separator and is indexed (empty when none): the
    /// prefix itself when it ends at one.
    /// </summary>
    private static string EnclosingDirectory(string prefix)
    {
        var directories = SourceDirectories(prefix);
        return directories.Count == 0 ? string.Empty : directories[^1];
    }
}
