namespace T5Gemma2.Rag.Answering;

/// <summary>Nothing was retrieved for a question (an empty collection, or a filter that matches nothing), so there is nothing to answer from.</summary>
public sealed class NoPassagesException : Exception
{
    public NoPassagesException(string message)
        : base(message)
    {
    }
}
