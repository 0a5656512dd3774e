using System.IO.Compression;
using System.Text.Json;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Indexer.Loading;

namespace T5Gemma2.Rag.Indexer.Datasets;

/// <summary>
/// Reads a BEIR-layout folder: corpus.jsonl or corpus.jsonl.gz (<c>_id</c>, <c>title</c>, <c>text</c>), queries.jsonl
/// (<c>_id</c>, <c>text</c>) and qrels/test.tsv (a header, then query-id, corpus-id, score; CRLF tolerated). Only
/// judged queries are kept.
/// </summary>
public static class BeirDataset
{
    /// <exception cref="DocumentLoadException">A file is missing or malformed; the message names it and the line.</exception>
    public static RetrievalDataset Load(string directory, string split = "test")
    {
        ArgumentNullException.ThrowIfNull(directory);
        string corpus = new[] { "corpus.jsonl", "corpus.jsonl.gz" }.Select(f => Path.Combine(directory, f)).FirstOrDefault(File.Exists)
            ?? throw new DocumentLoadException(Path.Combine(directory, "corpus.jsonl"), "not found (nor corpus.jsonl.gz); expected a BEIR corpus.");
        string queriesPath = Path.Combine(directory, "queries.jsonl");
        string qrelsPath = Path.Combine(directory, "qrels", split + ".tsv");
        var judgments = ReadQrels(qrelsPath);
        var queries = ReadQueries(queriesPath, judgments.Keys.ToHashSet(StringComparer.Ordinal));
        var judged = judgments.Where(j => queries.ContainsKey(j.Key)).ToDictionary(j => j.Key, j => (IReadOnlyDictionary<string, int>)j.Value, StringComparer.Ordinal);
        var loader = new JsonRecordLoader(new JsonRecordLoaderOptions { QualifyIds = false });
        return new RetrievalDataset(
            Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory))),
            cancellationToken => loader.LoadAsync(new DocumentFile(Path.GetFullPath(corpus), Path.GetFileName(corpus)), cancellationToken),
            queries,
            judged);
    }

    private static Dictionary<string, Dictionary<string, int>> ReadQrels(string path)
    {
        if (!File.Exists(path))
        {
            throw new DocumentLoadException(path, "not found; expected BEIR judgments (query-id, corpus-id, score, tab-separated, with a header).");
        }

        var judgments = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        int number = 0;
        foreach (string raw in File.ReadLines(path))
        {
            number++;
            string line = raw.TrimEnd('\r');
            if (line.Length == 0 || (number == 1 && line.StartsWith("query-id", StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            string[] fields = line.Split('\t');
            if (fields.Length < 3 || !int.TryParse(fields[2], out int score))
            {
                throw new DocumentLoadException(path, $"line {number}: \"{(line.Length > 80 ? line[..80] : line)}\"; expected query-id<TAB>corpus-id<TAB>integer score.");
            }

            if (!judgments.TryGetValue(fields[0], out var forQuery))
            {
                judgments[fields[0]] = forQuery = new Dictionary<string, int>(StringComparer.Ordinal);
            }

            forQuery[fields[1]] = score;
        }

        return judgments;
    }

    private static Dictionary<string, string> ReadQueries(string path, HashSet<string> judged)
    {
        if (!File.Exists(path))
        {
            throw new DocumentLoadException(path, "not found; expected BEIR queries (JSON lines with _id and text).");
        }

        var queries = new Dictionary<string, string>(StringComparer.Ordinal);
        int number = 0;
        using var stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
            ? (Stream)new GZipStream(File.OpenRead(path), CompressionMode.Decompress)
            : File.OpenRead(path);
        using var reader = new StreamReader(stream);
        while (reader.ReadLine() is { } line)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            try
            {
                using var record = JsonDocument.Parse(line);
                string id = record.RootElement.GetProperty("_id").ToString();
                if (judged.Contains(id))
                {
                    queries[id] = record.RootElement.GetProperty("text").GetString() ?? string.Empty;
                }
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new DocumentLoadException(path, $"line {number}: {ex.Message.Split('\n')[0]}; expected an object with \"_id\" and \"text\".", ex);
            }
        }

        return queries;
    }
}
