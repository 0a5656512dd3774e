using System.Text.Json;
using Microsoft.Data.Sqlite;
using T5Gemma2.Rag.Indexer.Stores.Fields;

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

        if (filter.Fields is { } fields)
        {
            conditions.Add(new FieldSql(command).Translate(fields));
        }

        return conditions.Count == 0 ? string.Empty : " AND " + string.Join(" AND ", conditions);
    }

    /// <summary>
    /// " AND … IS NOT NULL" for each order field, then " ORDER BY …": the fields' values, then the rowid (so equal values
    /// keep one order). Passages without a value for an order field are left out, as Qdrant's order_by leaves them out,
    /// so a listing is the same in both stores.
    /// </summary>
    public static string OrderBySql(IReadOnlyList<FieldOrder> order, SqliteCommand command)
    {
        if (order.Count == 0)
        {
            return " ORDER BY p.rowid";
        }

        var keys = new List<string>();
        var present = new List<string>();
        for (int i = 0; i < order.Count; i++)
        {
            PassageFields.ThrowIfInvalidName(order[i].Field, "order field");
            keys.Add($"json_extract(p.fields, $order_path{i}){(order[i].Descending ? " DESC" : string.Empty)}");
            present.Add($" AND json_extract(p.fields, $order_path{i}) IS NOT NULL");
            command.Parameters.AddWithValue($"$order_path{i}", Path(order[i].Field));
        }

        keys.Add("p.rowid");
        return string.Concat(present) + " ORDER BY " + string.Join(", ", keys);
    }

    private static string Path(string field) => $"$.\"{field}\"";

    /// <summary>
    /// One field condition as SQL that is 0 or 1, never NULL (so NOT of a condition on a missing field is true, as in
    /// C#): <c>IS</c> for equality, <c>coalesce(…, 0)</c> around comparisons. Values are bound, never spliced in.
    /// </summary>
    private sealed class FieldSql(SqliteCommand command)
    {
        private int _next;

        public string Translate(FieldCondition condition) => condition switch
        {
            FieldCondition.DocumentIn d => $"p.document_id IN (SELECT value FROM json_each({this.Bind(JsonSerializer.Serialize(d.DocumentIds))}))",
            FieldCondition.Equal { Value: null } e => $"json_extract(p.fields, {this.PathOf(e.Field)}) IS NULL",
            FieldCondition.Equal e => $"json_extract(p.fields, {this.PathOf(e.Field)}) IS {this.Bind(e.Value)}",
            FieldCondition.In i => $"coalesce(json_extract(p.fields, {this.PathOf(i.Field)}) IN (SELECT value FROM json_each({this.Bind(JsonSerializer.Serialize(i.Values.Select(PassageFields.ToStored)))})), 0)",
            FieldCondition.ListContains l => $"EXISTS (SELECT 1 FROM json_each(p.fields, {this.PathOf(l.Field)}) WHERE json_each.value = {this.Bind(l.Value)})",
            FieldCondition.Compare c => $"coalesce(json_extract(p.fields, {this.PathOf(c.Field)}) {Operator(c.Comparison)} {this.Bind(c.Value)}, 0)",
            FieldCondition.And a => $"({this.Translate(a.Left)} AND {this.Translate(a.Right)})",
            FieldCondition.Or o => $"({this.Translate(o.Left)} OR {this.Translate(o.Right)})",
            FieldCondition.Not n => $"(NOT {this.Translate(n.Operand)})",
            _ => throw new NotSupportedException($"the embedded store cannot run the field condition {condition.GetType().Name}."),
        };

        private static string Operator(FieldComparison comparison) => comparison switch
        {
            FieldComparison.LessThan => "<",
            FieldComparison.LessThanOrEqual => "<=",
            FieldComparison.GreaterThan => ">",
            _ => ">=",
        };

        private string PathOf(string field)
        {
            PassageFields.ThrowIfInvalidName(field, "filter field");
            return this.Bind(Path(field));
        }

        private string Bind(object? value)
        {
            string name = $"$filter_field{this._next++}";
            command.Parameters.AddWithValue(name, PassageFields.ToStored(value) ?? DBNull.Value);
            return name;
        }
    }
}
