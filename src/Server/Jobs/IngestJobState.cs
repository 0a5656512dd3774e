namespace T5Gemma2.Rag.Server.Jobs;

/// <summary>Where an ingestion job stands; stored and returned in snake_case (<c>completed_with_errors</c>).</summary>
public enum IngestJobState
{
    /// <summary>Accepted (its files staged durably) and waiting for the worker.</summary>
    Queued,

    /// <summary>The worker is indexing it; a restart puts it back in the queue.</summary>
    Running,

    /// <summary>Every file was indexed (or was unchanged).</summary>
    Succeeded,

    /// <summary>The run finished and some files failed, each with its reason; the others were indexed.</summary>
    CompletedWithErrors,

    /// <summary>The run itself failed (the store could not be written, the collection is of another model): see the job's error.</summary>
    Failed,
}
