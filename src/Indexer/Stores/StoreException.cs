namespace T5Gemma2.Rag.Indexer.Stores;

/// <summary>A store that cannot be used as asked (read-only directory, newer schema, wrong model): one line saying what was expected.</summary>
public sealed class StoreException : Exception
{
    public StoreException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
