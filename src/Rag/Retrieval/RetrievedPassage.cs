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
    double Score);
