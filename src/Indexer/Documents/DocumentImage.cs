namespace T5Gemma2.Rag.Indexer.Documents;

/// <summary>An image a loader found (an image file itself, or one inside a PDF page or a Word file), with where it was.</summary>
/// <param name="Image">The encoded image.</param>
/// <param name="NearbyText">Its caption, alt text or surrounding paragraph; possibly empty. It becomes the image passage's text.</param>
/// <param name="SectionPath">The headings above it, outermost first, joined by " > "; null where the format has none.</param>
/// <param name="Page">1-based page number (PDF), null elsewhere.</param>
public sealed record DocumentImage(PassageImage Image, string NearbyText, string? SectionPath = null, int? Page = null);
