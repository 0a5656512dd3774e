using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace T5Gemma2.Rag.Indexer.Stores.Embedded;

/// <summary>Translates a <see cref="PassageFilter"/> into SQL conditions on the passages table (alias p), with parameters.</summary>
internal static class EmbeddedFilter
{
    /// <summary>" AND …" conditions (empty when the filter is empty); parameters are added to the command.</summary>
    public static string ToSql(PassageFilter filter, SqliteCommand command)
    {
        var conditions = new List<string>();
        if (filter.DocumentIds is { Count: > 0 } ids)
        {
            conditions.Add("p.document_id IN (SELECT value FROM json_each($filter_documents))");
            command.Parameters.AddWithValue("$filter_documents", JsonSerializer.Serialize(ids));
        }

        if (filter.SourcePrefix is { } prefix)
        {
            // substr, not LIKE: no wildcard escaping, and case-sensitive like paths.
            conditions.Add("substr(p.source, 1, length($filter_source)) = $filter_source");
            command.Parameters.AddWithValue("$filter_source", prefix);
        }

        if (filter.Tags is { Count: > 0 } tags)
        {
            int i = 0;
            foreach (var (key, value) in tags)
            {
                conditions.Add($"EXISTS (SELECT 1 FROM json_each(p.tags) WHERE json_each.key = $filter_tag_key{i} AND json_each.value = $filter_tag_value{i})");
                command.Parameters.AddWithValue($"$filter_tag_key{i}", key);
                command.Parameters.AddWithValue($"$filter_tag_value{i}", value);
                i++;
            }
        }

        if (filter.IndexedAfter is { } after)
        {
            conditions.Add("p.indexed_at >= $filter_after");
            command.Parameters.AddWithValue("$filter_after", after.ToUnixTimeMilliseconds());
        }

        return conditions.Count == 0 ? string.Empty : " AND " + string.Join(" AND ", conditions);
    }
}
