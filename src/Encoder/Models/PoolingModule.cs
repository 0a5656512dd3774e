namespace T5Gemma2.Rag.Encoder.Models;

/// <summary>
/// How per-token states become one vector, as a sentence-transformers Pooling module's config says: one mode, or
/// several whose results are concatenated in this order, over the positions the attention mask keeps, and with the
/// prompt's positions left out when <see cref="IncludePrompt"/> is false (the encoder still sees them).
/// </summary>
public sealed record PoolingModule(IReadOnlyList<PoolingMode> Modes, bool IncludePrompt)
{
    /// <summary>Mean over every kept position, prompt included: what a directory without modules gets.</summary>
    public static PoolingModule Of(PoolingMode mode) => new([mode], IncludePrompt: true);

    /// <summary>The width of the pooled vector for states of <paramref name="hidden"/> components.</summary>
    public int OutputWidth(int hidden) => this.Modes.Count * hidden;
}
