using System.Runtime.CompilerServices;
using System.Text.Json;
using T5Gemma2.Rag.Indexer.Documents;

namespace T5Gemma2.Rag.Indexer.Datasets;

/// <summary>
/// A SQuAD v1.1 file as paragraph retrieval: every paragraph is a document ("{title}#{index}"), every question a
/// query whose one relevant document is its own paragraph.
/// </summary>
public static class SquadDataset
{
    /// <exception cref="DocumentLoadException">The file is missing or not SQuAD's layout; the message names what was expected.</exception>
    public static RetrievalDataset Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var corpus = new List<LoadedDocument>();
        var queries = new Dictionary<string, string>(StringComparer.Ordinal);
        var judgments = new Dictionary<string, IReadOnlyDictionary<string, int>>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            foreach (var article in document.RootElement.GetProperty("data").EnumerateArray())
            {
                string title = article.GetProperty("title").GetString() ?? string.Empty;
                int index = 0;
                foreach (var paragraph in article.GetProperty("paragraphs").EnumerateArray())
                {
                    string id = $"{title}#{index++}";
                    string context = paragraph.GetProperty("context").GetString() ?? string.Empty;
                    corpus.Add(new LoadedDocument { DocumentId = id, Source = path, Title = title.Replace('_', ' '), Text = context });
                    foreach (var question in paragraph.GetProperty("qas").EnumerateArray())
                    {
                        string questionId = question.GetProperty("id").GetString()!;
                        queries[questionId] = question.GetProperty("question").GetString() ?? string.Empty;
                        judgments[questionId] = new Dictionary<string, int>(StringComparer.Ordinal) { [id] = 1 };
                    }
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            throw new DocumentLoadException(path, $"cannot be read as SQuAD ({ex.Message.Split('\n')[0]}); expected {{\"data\": [{{\"title\", \"paragraphs\": [{{\"context\", \"qas\": [{{\"id\", \"question\"}}]}}]}}]}}.", ex);
        }

        return new RetrievalDataset(Path.GetFileNameWithoutExtension(path), _ => Enumerate(corpus), queries, judgments);
    }

    private static async IAsyncEnumerable<LoadedDocument> Enumerate(List<LoadedDocument> corpus, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var document in corpus)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return document;
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }
}
