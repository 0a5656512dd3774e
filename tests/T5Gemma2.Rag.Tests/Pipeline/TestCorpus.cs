using System.IO.Compression;
using System.Text.Json;

namespace T5Gemma2.Rag.Tests.Pipeline;

/// <summary>Real passages (the shared DBpedia subset) written as files, for indexing tests.</summary>
internal static class TestCorpus
{
    /// <summary>The first <paramref name="count"/> DBpedia records: (id, title, text).</summary>
    public static List<(string Id, string Title, string Text)> Records(int count)
    {
        using var stream = new GZipStream(File.OpenRead(Infrastructure.TestAssets.Dataset("dbpedia/corpus.jsonl.gz")), CompressionMode.Decompress);
        using var reader = new StreamReader(stream);
        var records = new List<(string, string, string)>();
        while (records.Count < count && reader.ReadLine() is { } line)
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            records.Add((root.GetProperty("_id").GetString()!, root.GetProperty("title").GetString()!, root.GetProperty("text").GetString()!));
        }

        return records;
    }

    /// <summary>Writes each record as a Markdown file "NNN.md" (a title heading, then the text) under <paramref name="directory"/>.</summary>
    public static List<string> WriteMarkdown(string directory, IEnumerable<(string Id, string Title, string Text)> records)
    {
        Directory.CreateDirectory(directory);
        return [.. records.Select((r, i) =>
        {
            string path = Path.Combine(directory, $"{i:D4}.md");
            File.WriteAllText(path, $"# {r.Title}\n\n{r.Text}\n");
            return path;
        })];
    }
}
