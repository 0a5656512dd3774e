namespace T5Gemma2.Rag.Answering;

/// <summary>Nothing was retrieved for a question (an empty collection, or a filter that matches nothing), so there is nothing to answer from.</summary>
public sealed class NoPassagesException : T5RagException
{
    public NoPassagesException(string message)
        : base(message)
    {
    }

    public override FailureKind Kind => FailureKind.NoPassages;
}
