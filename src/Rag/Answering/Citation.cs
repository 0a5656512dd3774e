namespace T5Gemma2.Rag.Answering;

/// <summary>A source of an answer: the passage behind marker [<see cref="Number"/>] of the packed context.</summary>
/// <param name="Number">The marker number in the context.</param>
/// <param name="PassageIds">The stored passage ids (several when consecutive passages were merged).</param>
/// <param name="DocumentId">The document.</param>
/// <param name="Source">Its path or URI.</param>
/// <param name="Title">Its title.</param>
/// <param name="SectionPath">The section's heading path.</param>
/// <param name="Page">The page (PDF).</param>
/// <param name="Score">The retrieval score.</param>
/// <param name="Cited">Whether the answer's text uses the marker [n].</param>
public sealed record Citation(int Number, IReadOnlyList<string> PassageIds, string DocumentId, string Source, string? Title, string? SectionPath, int? Page, double Score, bool Cited);
