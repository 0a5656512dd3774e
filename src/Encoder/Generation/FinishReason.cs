namespace T5Gemma2.Rag.Encoder.Generation;

/// <summary>Why generation ended.</summary>
public enum FinishReason
{
    /// <summary>The model produced its end-of-sequence token.</summary>
    EndOfSequence,

    /// <summary>MaxNewTokens was reached.</summary>
    Length,

    /// <summary>A stop sequence appeared.</summary>
    StopSequence,
}
