namespace T5Gemma2.Rag.Packing;

/// <summary>The order passages are packed in (and numbered).</summary>
public enum PassageOrder
{
    /// <summary>Best first: when the budget runs out, the weakest passages are the ones left out.</summary>
    ByScore,

    /// <summary>Documents by their best passage, and each document's passages in reading order.</summary>
    ByDocument,
}
