using T5Gemma2.Rag.Indexer.Documents;

namespace T5Gemma2.Rag.Packing;

/// <summary>The encoder input built from a question and its passages.</summary>
/// <param name="InputIds">The ids the encoder receives (bos first).</param>
/// <param name="Text">The same input as text (special tokens shown), for <c>--show-context</c> and for text-only answer models.</param>
/// <param name="Passages">The passages included, in order, with their marker numbers.</param>
/// <param name="LeftOut">Retrieved passages that did not fit the budget.</param>
/// <param name="TokenBudget">The budget the input was packed within.</param>
public sealed record PackedContext(int[] InputIds, string Text, IReadOnlyList<PackedPassage> Passages, int LeftOut, int TokenBudget)
{
    public int TokenCount => this.InputIds.Length;

    /// <summary>The images whose blocks are in <see cref="InputIds"/>, in block order (question images and image passages).</summary>
    public IReadOnlyList<PassageImage> Images { get; init; } = [];
}
