using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace T5Gemma2.Rag.Cli.Bench;

/// <summary>
/// Real text for benchmarks: BEIR corpus.jsonl(.gz) (title + text), SQuAD json (contexts and questions), any jsonl
/// with a "text" field, and plain text files; directories are walked. Duplicates are dropped, so "distinct text" holds.
/// </summary>
internal static class BenchCorpus
{
    private static readonly string[] s_textExtensions = [".jsonl", ".jsonl.gz", ".json", ".txt", ".md", ".cs", ".mjs", ".js", ".py", ".html", ".xml"];
    private static readonly string[] s_skippedDirectories = ["node_modules", "bin", "obj"];

    public static List<string> ReadDistinct(IEnumerable<string> paths) => ReadDistinct(paths, questionsOnly: false);

    /// <summary>Query texts: the same files, but of SQuAD only the questions (BEIR queries.jsonl carries them as "text").</summary>
    public static List<string> ReadQueries(IEnumerable<string> paths) => ReadDistinct(paths, questionsOnly: true);

    private static List<string> ReadDistinct(IEnumerable<string> paths, bool questionsOnly)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var texts = new List<string>();
        foreach (string path in paths)
        {
            foreach (string file in Expand(path))
            {
                foreach (string text in ReadFile(file, questionsOnly))
                {
                    if (text.Length > 0 && seen.Add(text))
                    {
                        texts.Add(text);
                    }
                }
            }
        }

        return texts;
    }

    private static IEnumerable<string> Expand(string path)
    {
        if (Directory.Exists(path))
        {
            return Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                .Where(f => s_textExtensions.Any(e => f.EndsWith(e, StringComparison.Ordinal)) && !IsInSkippedDirectory(Path.GetRelativePath(path, f)))
                .Order(StringComparer.Ordinal);
        }

        return File.Exists(path) ? [path] : throw new InputFileException(path, "not found; expected a corpus file or directory.");
    }

    // Build outputs, installed packages and hidden folders are not text anyone wrote for this corpus.
    private static bool IsInSkippedDirectory(string relativePath) =>
        relativePath.Split(Path.DirectorySeparatorChar).SkipLast(1).Any(part => part.StartsWith('.') || s_skippedDirectories.Contains(part));

    private static List<string> ReadFile(string file, bool questionsOnly)
    {
        try
        {
            if (file.EndsWith(".jsonl", StringComparison.Ordinal) || file.EndsWith(".jsonl.gz", StringComparison.Ordinal))
            {
                return ReadJsonLines(file);
            }

            if (file.EndsWith(".json", StringComparison.Ordinal))
            {
                return ReadSquad(file, questionsOnly);
            }

            return [File.ReadAllText(file)];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or InvalidDataException)
        {
            throw new InputFileException(file, $"cannot be read as a corpus ({ex.Message.Split('\n')[0]}).", ex);
        }
    }

    private static List<string> ReadJsonLines(string file)
    {
        using Stream raw = File.OpenRead(file);
        using Stream stream = file.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(raw, CompressionMode.Decompress) : raw;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var texts = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            string? text = root.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            string? title = root.TryGetProperty("title", out var h) && h.ValueKind == JsonValueKind.String ? h.GetString() : null;
            if (text is not null)
            {
                texts.Add(string.IsNullOrEmpty(title) ? text : title + "\n" + text);
            }
        }

        return texts;
    }

    private static List<string> ReadSquad(string file, bool questionsOnly)
    {
        using var stream = File.OpenRead(file);
        using var document = JsonDocument.Parse(stream);
        var texts = new List<string>();
        if (!document.RootElement.TryGetProperty("data", out var data))
        {
            return texts;
        }

        foreach (var article in data.EnumerateArray())
        {
            foreach (var paragraph in article.GetProperty("paragraphs").EnumerateArray())
            {
                if (!questionsOnly)
                {
                    texts.Add(paragraph.GetProperty("context").GetString() ?? "");
                }

                foreach (var qa in paragraph.GetProperty("qas").EnumerateArray())
                {
                    texts.Add(qa.GetProperty("question").GetString() ?? "");
                }
            }
        }

        return texts;
    }

    /// <summary>
    /// <paramref name="count"/> passages: the corpus's own, then, past its size, the same with a numbered suffix, so
    /// every passage is distinct and is embedded.
    /// </summary>
    public static string[] Repeat(IReadOnlyList<string> distinct, int count) =>
        [.. Enumerable.Range(0, count).Select(i => i < distinct.Count ? distinct[i] : $"{distinct[i % distinct.Count]} ({i / distinct.Count})")];

    /// <summary>The passages as one-passage documents ("p{i}") for <c>IngestPipeline.IndexDocumentsAsync</c>.</summary>
    public static async IAsyncEnumerable<T5Gemma2.Rag.Indexer.Documents.LoadedDocument> AsDocuments(string[] texts, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (int i = 0; i < texts.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return new T5Gemma2.Rag.Indexer.Documents.LoadedDocument { DocumentId = $"p{i}", Source = $"bench/{i}", Text = texts[i] };
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }
}
