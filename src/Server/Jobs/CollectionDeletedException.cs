namespace T5Gemma2.Rag.Server.Jobs;

/// <summary>A queued job's collection was deleted before the job ran: the job fails, and the collection stays deleted.</summary>
public sealed class CollectionDeletedException : T5RagException
{
    public CollectionDeletedException(string message)
        : base(message)
    {
    }

    public override FailureKind Kind => FailureKind.StoreUnusable;
}
