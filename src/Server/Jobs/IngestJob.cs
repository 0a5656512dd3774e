namespace T5Gemma2.Rag.Server.Jobs;

/// <summary>An ingestion job as the service database holds it: one upload of files into one collection.</summary>
/// <param name="Id">32 hex digits, time-ordered.</param>
/// <param name="Collection">The collection the files go into.</param>
/// <param name="State">Where it stands.</param>
/// <param name="KeyName">The API key that uploaded it (<c>local</c> for a keyless loopback caller).</param>
/// <param name="Tags">Tags every passage of its documents carries.</param>
/// <param name="CreatedAt">When it was accepted (the 202).</param>
/// <param name="StartedAt">When the worker last started it (a restart starts it again).</param>
/// <param name="FinishedAt">When it finished.</param>
/// <param name="Passages">Passages its documents have in the collection now (embedded, reused or unchanged); 0 until it finishes.</param>
/// <param name="Progress">Files read and cut over files in the job while it runs (under 1), 1 when finished.</param>
/// <param name="DocumentsNew">Documents it added.</param>
/// <param name="DocumentsChanged">Documents it replaced (same name, changed content or tags).</param>
/// <param name="DocumentsUnchanged">Documents it left as they were (same name, same content and tags).</param>
/// <param name="Error">Why the run failed (state failed); null otherwise.</param>
/// <param name="Files">Its files, in upload order.</param>
public sealed record IngestJob(
    string Id,
    string Collection,
    IngestJobState State,
    string? KeyName,
    IReadOnlyDictionary<string, string> Tags,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    long Passages,
    double Progress,
    int DocumentsNew,
    int DocumentsChanged,
    int DocumentsUnchanged,
    string? Error,
    IReadOnlyList<IngestJobFile> Files)
{
    /// <summary>Whether the job is over (succeeded, completed with errors, failed): nothing about it changes any more.</summary>
    public bool IsFinished => this.State is IngestJobState.Succeeded or IngestJobState.CompletedWithErrors or IngestJobState.Failed;
}
