namespace T5Gemma2.Rag.Server.Jobs;

/// <summary>How a job's run ended, as <see cref="IngestJobStore.Finish"/> records it in one transaction.</summary>
/// <param name="State">Succeeded, completed with errors, or failed.</param>
/// <param name="Passages">Passages the job's documents have now.</param>
/// <param name="DocumentsNew">Documents added.</param>
/// <param name="DocumentsChanged">Documents replaced.</param>
/// <param name="DocumentsUnchanged">Documents left as they were.</param>
/// <param name="Error">Why the run failed; null unless <paramref name="State"/> is failed.</param>
/// <param name="Files">Each file's end: by ordinal, done or failed with its reason.</param>
public sealed record IngestJobOutcome(
    IngestJobState State,
    long Passages,
    int DocumentsNew,
    int DocumentsChanged,
    int DocumentsUnchanged,
    string? Error,
    IReadOnlyList<(int Ordinal, IngestFileState State, string? Reason)> Files);
