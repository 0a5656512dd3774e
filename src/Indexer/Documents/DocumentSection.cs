namespace T5Gemma2.Rag.Indexer.Documents;

/// <summary>
/// A span of a document's text under one heading path and on one page: the structure that chunking cuts at first.
/// </summary>
/// <param name="Start">First character of the span in <see cref="LoadedDocument.Text"/>.</param>
/// <param name="Length">Characters in the span.</param>
/// <param name="HeadingPath">The headings above the span, outermost first, joined by " > " (null where the format has none).</param>
/// <param name="Page">1-based page number (PDF), null elsewhere.</param>
public sealed record DocumentSection(int Start, int Length, string? HeadingPath = null, int? Page = null);
