namespace T5Gemma2.Rag.Server.Jobs;

/// <summary>Where one file of an ingestion job stands.</summary>
public enum IngestFileState
{
    /// <summary>Not yet indexed (the job is queued or running).</summary>
    Queued,

    /// <summary>Indexed, or unchanged since it was indexed before.</summary>
    Done,

    /// <summary>Not indexed; the reason says why (a corrupt PDF, a file no loader reads, a run that failed).</summary>
    Failed,
}
