using T5Gemma2.Rag.Indexer.Pipeline;

namespace T5Gemma2.Rag.SemanticKernel;

/// <summary>What index_text and index_file return: what changed in the collection, and what could not be read.</summary>
/// <param name="DocumentId">The id of the document index_text wrote (what forget_document takes); null for files, whose ids search results show.</param>
/// <param name="DocumentsNew">Documents added.</param>
/// <param name="DocumentsChanged">Documents replaced because their text changed.</param>
/// <param name="DocumentsUnchanged">Documents skipped because they were already indexed as they are.</param>
/// <param name="PassagesIndexed">Passages embedded and written.</param>
/// <param name="Failures">Files or documents that could not be indexed, each "path: reason"; the rest were indexed.</param>
/// <param name="Error">Why nothing was indexed (empty text, a path that does not exist or is not allowed); null otherwise.</param>
public sealed record IndexResult(string? DocumentId, int DocumentsNew, int DocumentsChanged, int DocumentsUnchanged, long PassagesIndexed, IReadOnlyList<string> Failures, string? Error = null)
{
    internal static IndexResult From(IngestSummary summary, string? documentId) => new(
        documentId,
        summary.DocumentsNew,
        summary.DocumentsChanged,
        summary.DocumentsUnchanged,
        summary.PassagesNew + summary.PassagesReused,
        [.. summary.Failures.Select(f => $"{f.Path}: {f.Reason}")]);

    internal static IndexResult Failed(string error) => new(null, 0, 0, 0, 0, [], error);
}
