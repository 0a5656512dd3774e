namespace T5Gemma2.Rag.Encoder.Models;

/// <summary>How the encoder's per-token states become one vector.</summary>
public enum PoolingMode
{
    /// <summary>The mean of the states at positions the attention mask keeps (padding excluded).</summary>
    Mean,

    /// <summary>The state of the first token (<c>[CLS]</c> for BERT, <c>&lt;bos&gt;</c> for Gemma).</summary>
    Cls,

    /// <summary>The state of the last token the attention mask keeps.</summary>
    LastToken,

    /// <summary>The largest value of each component over the kept positions.</summary>
    Max,

    /// <summary>The sum of the kept states divided by the square root of their count (sentence-transformers' mean_sqrt_len_tokens).</summary>
    MeanSqrtLength,

    /// <summary>The kept states weighted by their 1-based position in the (right-padded) input (sentence-transformers' weightedmean).</summary>
    WeightedMean,
}
