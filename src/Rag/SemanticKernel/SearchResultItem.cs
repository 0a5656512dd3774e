using System.Globalization;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Retrieval;

namespace T5Gemma2.Rag.SemanticKernel;

/// <summary>
/// One passage found by search, as a model reads it: the text with where it comes from, without the offsets and
/// passage ids a <see cref="RetrievedPassage"/> carries for programs.
/// </summary>
/// <param name="Rank">1 for the best passage.</param>
/// <param name="Score">The retrieval score (cosine, BM25 or fused, by the search mode).</param>
/// <param name="Text">The passage (consecutive passages of one document merged).</param>
/// <param name="Source">The document's path or URI.</param>
/// <param name="DocumentId">The document's id (what forget_document takes).</param>
/// <param name="Title">The document's title.</param>
/// <param name="Section">The section's heading path.</param>
/// <param name="Page">The page (PDF).</param>
public sealed record SearchResultItem(int Rank, double Score, string Text, string Source, string DocumentId, string? Title, string? Section, int? Page)
{
    /// <summary>Text, or an image whose <see cref="Text"/> is its caption, alt text or nearby paragraph.</summary>
    public PassageKind Kind { get; init; } = PassageKind.Text;

    /// <summary>The item for the passage at <paramref name="rank"/>.</summary>
    public static SearchResultItem From(RetrievedPassage passage, int rank)
    {
        ArgumentNullException.ThrowIfNull(passage);
        return new(rank, passage.Score, passage.Text, passage.Source, passage.DocumentId, passage.Title, passage.SectionPath, passage.Page) { Kind = passage.Kind };
    }

    /// <summary>A one-line name: the title (else the file name), then the section and page.</summary>
    internal string Heading()
    {
        string name = this.Title ?? Path.GetFileName(this.Source.TrimEnd('/', '\\'));
        if (!string.IsNullOrEmpty(this.Section) && this.Section != this.Title)
        {
            name += " › " + this.Section;
        }

        name = this.Page is int page ? string.Create(CultureInfo.InvariantCulture, $"{name}, p. {page}") : name;
        return this.Kind == PassageKind.Image ? name + " (image)" : name;
    }
}
