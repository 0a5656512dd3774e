namespace T5Gemma2.Rag.Indexer.Chunking;

/// <summary>
/// How large the chunks of a <see cref="DocumentChunker"/> are, in the embedding model's own tokens. Both limits are
/// checked as soon as both are known, so an instance is always valid.
/// </summary>
/// <remarks>
/// Sizes are in model tokens, not characters or tiktoken tokens: an embedding model truncates what does not fit its
/// positions, so a chunk counted with another tokenizer can silently lose its end. Kernel Memory counts 1,000 tokens with
/// 100 of overlap, but with tiktoken and for models with 8k inputs; here the model's limit decides (see <see cref="ForModel"/>).
/// </remarks>
public sealed class ChunkingOptions
{
    /// <summary>The smallest <see cref="MaxTokens"/>: a character can take four byte-fallback tokens, and the ceiling must hold even for one character.</summary>
    public const int MinMaxTokens = 4;

    /// <summary>
    /// Most tokens in a chunk, counted without the model's special tokens (bos, [CLS], [SEP]), overlap included: a hard
    /// ceiling that every <see cref="TextChunk.TokenCount"/> respects. At least <see cref="MinMaxTokens"/>.
    /// </summary>
    public required int MaxTokens
    {
        get;
        init
        {
            if (value < MinMaxTokens)
            {
                throw new ArgumentOutOfRangeException(nameof(this.MaxTokens), value, $"MaxTokens must be at least {MinMaxTokens}: a single character can take that many byte-fallback tokens.");
            }

            if (!OverlapFits(value, this.OverlapTokens))
            {
                throw new ArgumentOutOfRangeException(nameof(this.MaxTokens), value, $"MaxTokens ({value}) must be more than twice OverlapTokens ({this.OverlapTokens}).");
            }

            field = value;
        }
    }

    /// <summary>
    /// Most tokens a chunk repeats from the end of the previous chunk of the same section, so that a sentence cut by a
    /// chunk boundary is still whole in one of them. Less than half of <see cref="MaxTokens"/>, so that every chunk
    /// carries more new text than repeated text. Default 0 (no overlap).
    /// </summary>
    public int OverlapTokens
    {
        get;
        init
        {
            if (value < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(this.OverlapTokens), value, "OverlapTokens cannot be negative.");
            }

            if (!OverlapFits(this.MaxTokens, value))
            {
                throw new ArgumentOutOfRangeException(nameof(this.OverlapTokens), value, $"OverlapTokens ({value}) must be less than half of MaxTokens ({this.MaxTokens}).");
            }

            field = value;
        }
    }

    /// <summary>
    /// Defaults for a model that reads at most <paramref name="modelMaxInputTokens"/> tokens:
    /// <see cref="MaxTokens"/> = min(512, limit − 2) and <see cref="OverlapTokens"/> = <see cref="MaxTokens"/> / 8.
    /// </summary>
    /// <param name="modelMaxInputTokens">The model's input limit, special tokens included (all-MiniLM-L6-v2: 256; T5Gemma 2: its configured max length).
    /// Subtract the tokens of a passage prefix the model puts before every chunk.</param>
    /// <remarks>
    /// Two positions are kept for the special tokens the model adds ([CLS] and [SEP] for BERT, bos for Gemma). The cap
    /// of 512 is the input limit of most BERT-family embedders, and a longer chunk averages more topics into one vector
    /// (Kernel Memory's 1,000 tiktoken tokens target OpenAI models with 8k inputs). all-MiniLM-L6-v2 was trained on at
    /// most 256 word pieces, so there its own limit (254 after specials) decides. An eighth of overlap, close to Kernel
    /// Memory's 100 of 1,000, keeps a sentence cut by a boundary (about 20–30 tokens) whole in the next chunk without
    /// spending much of the index on repeats.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">The limit leaves fewer than <see cref="MinMaxTokens"/> tokens.</exception>
    public static ChunkingOptions ForModel(int modelMaxInputTokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(modelMaxInputTokens, MinMaxTokens + 2);
        int maxTokens = Math.Min(512, modelMaxInputTokens - 2);
        return new ChunkingOptions { MaxTokens = maxTokens, OverlapTokens = maxTokens / 8 };
    }

    // Checked by whichever of the two is set second: MaxTokens is 0 until its own initializer runs.
    private static bool OverlapFits(int maxTokens, int overlapTokens) => maxTokens == 0 || (long)overlapTokens * 2 < maxTokens;
}
