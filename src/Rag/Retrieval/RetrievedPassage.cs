using T5Gemma2.Rag.Indexer.Documents;

namespace T5Gemma2.Rag.Retrieval;

/// <summary>
/// A span of one document found for a question: one stored passage, or several consecutive ones merged. Its text is
/// exactly the document's text over [<see cref="Start"/>, <see cref="Start"/> + <see cref="Length"/>) when the passages
/// overlapped or touched.
/// </summary>
public sealed record RetrievedPassage(
    IReadOnlyList<string> PassageIds,
    string DocumentId,
    string Source,
    string? Title,
    string? SectionPath,
    int? Page,
    int Start,
    int Length,
    int FirstChunkIndex,
    string Text,
    double Score)
{
    /// <summary>Text, or an image whose <see cref="Text"/> is its nearby text; an image passage is never merged with others.</summary>
    public PassageKind Kind { get; init; } = PassageKind.Text;

    /// <summary>The image of an image passage, packed into the encoder input as the image itself; null for text.</summary>
    public PassageImage? Image { get; init; }

    /// <summary>The document's tags.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = s_noTags;

    /// <summary>1-based rank of the best-scoring passage in the store's dense ranking, when it was in it (hybrid and dense search).</summary>
    public int? DenseRank { get; init; }

    /// <summary>1-based rank of the best-scoring passage in the store's keyword ranking, when it was in it (hybrid and keyword search).</summary>
    public int? KeywordRank { get; init; }

    private static readonly IReadOnlyDictionary<string, string> s_noTags = new Dictionary<string, string>();

    /// <summary>The text on one line (runs of white space as one space), cut to <paramref name="maxCharacters"/> with an ellipsis: what a result list shows.</summary>
    public string Snippet(int maxCharacters = 200)
    {
        string flat = string.Join(' ', this.Text.Split((char[])[' ', '\n', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries));
        return flat.Length <= maxCharacters ? flat : flat[..maxCharacters] + "…";
    }
}
