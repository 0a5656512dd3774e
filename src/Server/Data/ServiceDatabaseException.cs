namespace T5Gemma2.Rag.Server.Data;

/// <summary>The service database cannot be opened or written: a fault only the operator can mend (a path, a permission, a newer file).</summary>
public sealed class ServiceDatabaseException : T5RagException
{
    public ServiceDatabaseException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    public override FailureKind Kind => FailureKind.StoreUnusable;
}
