using System.Text.Json;
using Microsoft.Data.Sqlite;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Indexer.Stores.Fields;
using static T5Gemma2.Rag.Indexer.Stores.Embedded.EmbeddedSql;

namespace T5Gemma2.Rag.Indexer.Stores.Embedded;

/// <summary>
/// One search inside one SQLite snapshot: the dense ranking (from the vector index), the keyword ranking (FTS5's
/// BM25), their fusion for hybrid search, and the passages of the winners read back.
/// </summary>
internal static class EmbeddedSearch
{
    /// <summary>The request's hits, best first.</summary>
    /// <param name="nearest">Dense search at the snapshot's generation: (unit query, k, rowids the filter allows or null) → (rowid, cosine), best first.</param>
    /// <param name="schemaVersion">The file's schema version (<see cref="EmbeddedCollectionFile.SchemaVersion"/>): what columns a passage is read from.</param>
    public static IReadOnlyList<SearchHit> Run(SqliteConnection connection, SqliteTransaction transaction, SearchRequest request, int schemaVersion, Func<float[], int, HashSet<long>?, List<(long RowId, float Score)>> nearest)
    {
        int candidates = request.Mode == SearchMode.Hybrid ? Math.Max(request.Top, request.HybridCandidates) : request.Top;
        List<(long RowId, double Score)> dense = [], keyword = [];
        if (request.Mode is SearchMode.Dense or SearchMode.Hybrid)
        {
            float[] query = EmbeddedVectorIndex.Normalized(request.Vector!.Value.Span);
            var allowed = request.Filter.IsEmpty ? null : FilteredRowIds(connection, transaction, request.Filter);
            dense = [.. nearest(query, candidates, allowed).Select(r => (r.RowId, (double)r.Score))];
        }

        if (request.Mode is SearchMode.Keyword or SearchMode.Hybrid && KeywordQuery.ToFts5(request.Text!) is { } match)
        {
            keyword = Keyword(connection, transaction, match, request.Filter, candidates);
        }

        List<(long RowId, double Score, int? DenseRank, int? KeywordRank)> ranked = request.Mode switch
        {
            SearchMode.Dense => [.. dense.Select((r, i) => (r.RowId, r.Score, (int?)(i + 1), (int?)null))],
            SearchMode.Keyword => [.. keyword.Select((r, i) => (r.RowId, r.Score, (int?)null, (int?)(i + 1)))],
            _ => [.. HybridFusion.Fuse(dense, keyword, request).Select(f => (f.Key, f.Score, f.DenseRank, f.KeywordRank))],
        };

        var passages = ReadPassages(connection, transaction, ranked.Select(r => r.RowId), schemaVersion);
        return [.. ranked.Where(r => passages.ContainsKey(r.RowId)).Select(r => new SearchHit(passages[r.RowId], r.Score, r.DenseRank, r.KeywordRank))];
    }

    private static List<(long RowId, double Score)> Keyword(SqliteConnection connection, SqliteTransaction transaction, string match, PassageFilter filter, int limit)
    {
        using var command = Command(connection, transaction, string.Empty);
        string conditions = EmbeddedFilter.ToSql(filter, command);
        command.CommandText = $"""
            SELECT p.rowid, -bm25(passages_fts) AS score
            FROM passages_fts JOIN passages p ON p.rowid = passages_fts.rowid
            WHERE passages_fts MATCH $match{conditions}
            ORDER BY bm25(passages_fts) LIMIT $limit
            """;
        command.Parameters.AddWithValue("$match", match);
        command.Parameters.AddWithValue("$limit", limit);
        using var reader = command.ExecuteReader();
        var hits = new List<(long, double)>();
        while (reader.Read())
        {
            hits.Add((reader.GetInt64(0), reader.GetDouble(1)));
        }

        return hits;
    }

    private static HashSet<long> FilteredRowIds(SqliteConnection connection, SqliteTransaction transaction, PassageFilter filter)
    {
        using var command = Command(connection, transaction, string.Empty);
        command.CommandText = "SELECT p.rowid FROM passages p WHERE 1" + EmbeddedFilter.ToSql(filter, command);
        using var reader = command.ExecuteReader();
        var rows = new HashSet<long>();
        while (reader.Read())
        {
            rows.Add(reader.GetInt64(0));
        }

        return rows;
    }

    private static Dictionary<long, Passage> ReadPassages(SqliteConnection connection, SqliteTransaction transaction, IEnumerable<long> rowIds, int schemaVersion)
    {
        using var command = Command(connection, transaction, $"SELECT {EmbeddedSchema.PassageColumns(schemaVersion)} FROM passages p WHERE p.rowid IN (SELECT value FROM json_each($rows))");
        command.Parameters.AddWithValue("$rows", JsonSerializer.Serialize(rowIds));
        using var reader = command.ExecuteReader();
        var passages = new Dictionary<long, Passage>();
        while (reader.Read())
        {
            passages[reader.GetInt64(0)] = ReadPassage(reader);
        }

        return passages;
    }

    /// <summary>The passage of the current row of a query that selects <see cref="EmbeddedSchema.PassageColumns"/> first.</summary>
    public static Passage ReadPassage(SqliteDataReader reader) => new()
    {
        Id = reader.GetString(1),
        DocumentId = reader.GetString(2),
        Source = reader.GetString(3),
        Title = reader.IsDBNull(4) ? null : reader.GetString(4),
        SectionPath = reader.IsDBNull(5) ? null : reader.GetString(5),
        Page = reader.IsDBNull(6) ? null : reader.GetInt32(6),
        Start = reader.GetInt32(7),
        Length = reader.GetInt32(8),
        ChunkIndex = reader.GetInt32(9),
        Text = reader.GetString(10),
        ContentHash = reader.GetString(11),
        TokenCount = reader.GetInt32(12),
        Tags = JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(13)) ?? [],
        IndexedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(14)),
        Kind = reader.GetString(15) == "image" ? PassageKind.Image : PassageKind.Text,
        Image = reader.IsDBNull(16) || reader.IsDBNull(17) ? null : new PassageImage(reader.GetString(16), (byte[])reader.GetValue(17)),
        Fields = PassageFields.FromJson(reader.GetString(18)),
    };
}
