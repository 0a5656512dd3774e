namespace T5Gemma2.Rag.SemanticKernel;

/// <summary>What forget_document returns.</summary>
/// <param name="DocumentId">The id asked for.</param>
/// <param name="Removed">Whether the document existed and is gone with its passages.</param>
/// <param name="Error">Why nothing was removed (no such document, an empty id); null when removed.</param>
public sealed record ForgetResult(string DocumentId, bool Removed, string? Error = null);
