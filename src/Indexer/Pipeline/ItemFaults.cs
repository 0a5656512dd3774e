namespace T5Gemma2.Rag.Indexer.Pipeline;

/// <summary>Which failures belong to one file or batch (reported, and the run goes on) and which end the run.</summary>
internal static class ItemFaults
{
    /// <summary>
    /// True for a failure of the item itself: a file that cannot be read or parsed, or a batch the model could not
    /// embed. Cancellation and every other failure of the family (the store, the model's fit to the collection, a
    /// remote service) would fail each following item the same way, so they end the run instead.
    /// </summary>
    public static bool IsOfOneItem(Exception exception) => exception switch
    {
        OperationCanceledException => false,
        T5RagException family => family.Kind == FailureKind.InputFile,
        _ => true,
    };
}
