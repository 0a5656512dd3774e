namespace T5Gemma2.Rag.Encoder.Checkpoints;

/// <summary>
/// The dimensions of a T5Gemma 2 size, for random checkpoints of the real architecture. 270m-270m is the released
/// config; 1b-1b and 4b-4b are inferred (../shared/docs/t5gemma2-architecture.md §1.3); tiny exercises every path
/// (sliding and full layers, a window smaller than test inputs, heads ≠ kv heads, head_dim ≠ query_pre_attn_scalar,
/// linear RoPE scaling) in seconds.
/// </summary>
public sealed record T5Gemma2Preset(
    string Name,
    int HiddenSize,
    int IntermediateSize,
    int NumLayers,
    int NumAttentionHeads,
    int NumKeyValueHeads,
    int HeadDim,
    int QueryPreAttentionScalar,
    int SlidingWindow,
    int MaxPositionEmbeddings,
    string[] LayerTypes)
{
    public const int VocabSize = 262_144;

    /// <summary>The vision tower and projector a random checkpoint gets; null writes a text-only checkpoint (no vision_config, no tower).</summary>
    public SiglipPreset? Vision { get; init; } = SiglipPreset.Tiny;

    public static T5Gemma2Preset Tiny { get; } = new("tiny", 16, 24, 4, 4, 2, 8, 12, 4, 512, ["sliding_attention", "sliding_attention", "full_attention", "sliding_attention"]);

    public static T5Gemma2Preset M270 { get; } = new("270m-270m", 640, 2048, 18, 4, 1, 256, 256, 512, 32_768, Pattern(18)) { Vision = SiglipPreset.So400m896 };

    public static T5Gemma2Preset B1 { get; } = new("1b-1b", 1152, 6912, 26, 4, 1, 256, 256, 512, 32_768, Pattern(26)) { Vision = SiglipPreset.So400m896 };

    public static T5Gemma2Preset B4 { get; } = new("4b-4b", 2560, 10_240, 34, 8, 4, 256, 256, 1024, 131_072, Pattern(34)) { Vision = SiglipPreset.So400m896 };

    public static IReadOnlyList<T5Gemma2Preset> All { get; } = [Tiny, M270, B1, B4];

    /// <summary>
    /// EmbeddingGemma's dimensions (google/embeddinggemma-300m's config.json: 3 query heads over one key/value head of
    /// 256, a 512 window that becomes 257 bidirectionally, 2,048 positions); its Dense modules are 4 × hidden wide.
    /// </summary>
    public static T5Gemma2Preset EmbeddingGemma300m { get; } = new("300m", 768, 1152, 24, 3, 1, 256, 256, 512, 2048, Pattern(24));

    /// <summary>EmbeddingGemma's architecture at test size: the tiny T5Gemma 2 dimensions, so the two window rules differ visibly (reach 2/2 against 1/2).</summary>
    public static T5Gemma2Preset EmbeddingGemmaTiny { get; } = Tiny;

    /// <summary>The presets of a layout: T5Gemma 2's for its two layouts, EmbeddingGemma's for its own.</summary>
    public static IReadOnlyList<T5Gemma2Preset> For(RandomLayout layout) =>
        layout == RandomLayout.EmbeddingGemma ? [EmbeddingGemmaTiny, EmbeddingGemma300m] : All;

    /// <summary>The preset named <paramref name="name"/>, or null.</summary>
    public static T5Gemma2Preset? Find(string name) => Find(name, RandomLayout.T5Gemma2);

    /// <summary>The preset of <paramref name="layout"/> named <paramref name="name"/>, or null.</summary>
    public static T5Gemma2Preset? Find(string name, RandomLayout layout) => For(layout).FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));

    // Five sliding layers, then one full, as transformers' sliding_window_pattern 6.
    private static string[] Pattern(int layers) => [.. Enumerable.Range(0, layers).Select(i => (i + 1) % 6 == 0 ? "full_attention" : "sliding_attention")];
}
