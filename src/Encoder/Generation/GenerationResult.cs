namespace T5Gemma2.Rag.Encoder.Generation;

/// <summary>One generated answer.</summary>
/// <param name="Text">The decoded text, special tokens and any stop sequence left out.</param>
/// <param name="TokenIds">The generated ids, without the decoder start token.</param>
/// <param name="FinishReason">Why it ended.</param>
/// <param name="InputTokenCount">Tokens of the encoder input.</param>
public sealed record GenerationResult(string Text, IReadOnlyList<int> TokenIds, FinishReason FinishReason, int InputTokenCount)
{
    /// <summary>Time per stage (shared by the rows of one batch).</summary>
    public GenerationTimings? Timings { get; init; }
}
