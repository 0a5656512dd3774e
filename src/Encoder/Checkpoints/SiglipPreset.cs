namespace T5Gemma2.Rag.Encoder.Checkpoints;

/// <summary>
/// The dimensions of a random checkpoint's SigLIP tower and projector (<c>encoder.vision_config</c> and
/// <c>mm_tokens_per_image</c>). The released sizes all use SigLIP so400m/14 at 896 pixels; tiny is the same
/// architecture small enough for a test to run in milliseconds, with a vision width unlike the text width and an
/// average pool that really pools, so a transposition or a skipped pool shows.
/// </summary>
public sealed record SiglipPreset(int ImageSize, int PatchSize, int HiddenSize, int IntermediateSize, int NumLayers, int NumAttentionHeads, int TokensPerImage)
{
    /// <summary>28 × 28 pixels in 7-pixel patches (4 × 4), pooled 2 × 2 to 4 image tokens; 24 wide, 2 layers of 2 heads.</summary>
    public static SiglipPreset Tiny { get; } = new(28, 7, 24, 40, 2, 2, 4);

    /// <summary>SigLIP so400m/14 at 896 pixels (64 × 64 patches pooled 4 × 4 to 256 tokens), as in 270m, 1B and 4B.</summary>
    public static SiglipPreset So400m896 { get; } = new(896, 14, 1152, 4304, 27, 16, 256);
}
