using System.Text;
using Qdrant.Client.Grpc;
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

        return new QdrantFilterPlan(must.Count == 0 ? null : new Filter { Must = { must } }, clientPrefix);
    }

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
