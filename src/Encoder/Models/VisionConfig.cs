using System.Globalization;
using System.Text.Json;

namespace T5Gemma2.Rag.Encoder.Models;

/// <summary>
/// The image path's settings from config.json (../shared/docs/t5gemma2-vision.md §1–4): the SigLIP tower
/// (<c>encoder.vision_config</c>), the projector's token count (<c>mm_tokens_per_image</c>) and the image token ids.
/// SigLIP's class defaults (224 px, 768 wide) are not the checkpoints' values, so the sizes that matter are read, not assumed.
/// </summary>
public sealed class VisionConfig
{
    private VisionConfig()
    {
    }

    /// <summary>The side of the square input, in pixels (896 in the released models): the tower has no position interpolation.</summary>
    public required int ImageSize { get; init; }

    public required int PatchSize { get; init; }

    public required int HiddenSize { get; init; }

    public required int IntermediateSize { get; init; }

    public required int NumLayers { get; init; }

    public required int NumAttentionHeads { get; init; }

    /// <summary>The eps of the tower's LayerNorms, and of the projector's RMSNorm as well.</summary>
    public required double LayerNormEps { get; init; }

    /// <summary>Image soft tokens per image after the projector's average pooling (256 in the released models).</summary>
    public required int TokensPerImage { get; init; }

    /// <summary>The width of the text encoder the projector writes into.</summary>
    public required int TextHiddenSize { get; init; }

    public required int BeginOfImageTokenId { get; init; }

    public required int EndOfImageTokenId { get; init; }

    /// <summary><c>&lt;image_soft_token&gt;</c>, whose positions take the image features.</summary>
    public required int ImageTokenId { get; init; }

    /// <summary>Patches along a side: image size / patch size.</summary>
    public int PatchesPerSide => this.ImageSize / this.PatchSize;

    /// <summary>Pooled tokens along a side: √<see cref="TokensPerImage"/>.</summary>
    public int TokensPerSide => (int)Math.Round(Math.Sqrt(this.TokensPerImage));

    /// <summary>The average pool's kernel and stride, patches per side / tokens per side.</summary>
    public int PoolKernel => this.PatchesPerSide / this.TokensPerSide;

    public int HeadDim => this.HiddenSize / this.NumAttentionHeads;

    /// <summary>The ids one image takes in the encoder input: "\n\n", begin-of-image, the soft tokens, end-of-image, "\n\n".</summary>
    public int TokensPerImageBlock => this.TokensPerImage + 4;

    /// <summary>Reads <c>encoder.vision_config</c>; null when the section has none (a text-only config).</summary>
    /// <exception cref="ModelFileException">A field has a value the tower or projector cannot use.</exception>
    internal static VisionConfig? Read(JsonElement root, JsonElement encoder, int textHidden, string path)
    {
        if (!encoder.TryGetProperty("vision_config", out var section) || section.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        const string where = "encoder.vision_config";
        string activation = section.GetString("hidden_act") ?? "gelu_pytorch_tanh";
        if (activation is not ("gelu_pytorch_tanh" or "gelu_new"))
        {
            throw T5Gemma2Config.Bad(path, where, "hidden_act", $"\"{activation}\"", "\"gelu_pytorch_tanh\" (SigLIP's tanh GELU)");
        }

        int imageSize = T5Gemma2Config.Positive(section, "image_size", 224, path, where);
        int patch = T5Gemma2Config.Positive(section, "patch_size", 16, path, where);
        int hidden = T5Gemma2Config.Positive(section, "hidden_size", 768, path, where);
        int heads = T5Gemma2Config.Positive(section, "num_attention_heads", 12, path, where);
        int tokens = T5Gemma2Config.Positive(encoder, "mm_tokens_per_image", 256, path, "encoder");
        if (imageSize % patch != 0)
        {
            throw T5Gemma2Config.Bad(path, where, "patch_size", patch.ToString(CultureInfo.InvariantCulture), $"a divisor of image_size ({imageSize})");
        }

        if (hidden % heads != 0)
        {
            throw T5Gemma2Config.Bad(path, where, "num_attention_heads", heads.ToString(CultureInfo.InvariantCulture), $"a divisor of hidden_size ({hidden})");
        }

        // The projector pools the patch grid to √tokens per side; a count that is not a square, or a grid it does not
        // divide, would silently give another token count in the reference (mm_tokens_per_image 2 gives 1).
        int side = (int)Math.Round(Math.Sqrt(tokens));
        int grid = imageSize / patch;
        if (side * side != tokens || grid % side != 0)
        {
            throw T5Gemma2Config.Bad(path, "encoder", "mm_tokens_per_image", tokens.ToString(CultureInfo.InvariantCulture), $"a square whose side divides the {grid}×{grid} patch grid");
        }

        if (section.GetBoolean("vision_use_head") == true)
        {
            // T5Gemma 2 reads the tower's last hidden state; a head would be weights the model never uses.
            throw T5Gemma2Config.Bad(path, where, "vision_use_head", "true", "false (T5Gemma 2 pools the patch states, it has no head)");
        }

        return new VisionConfig
        {
            ImageSize = imageSize,
            PatchSize = patch,
            HiddenSize = hidden,
            IntermediateSize = T5Gemma2Config.Positive(section, "intermediate_size", 3072, path, where),
            NumLayers = T5Gemma2Config.Positive(section, "num_hidden_layers", 12, path, where),
            NumAttentionHeads = heads,
            LayerNormEps = T5Gemma2Config.PositiveNumber(section, "layer_norm_eps", 1e-6, path, where),
            TokensPerImage = tokens,
            TextHiddenSize = textHidden,
            BeginOfImageTokenId = root.GetInt32("boi_token_index") ?? encoder.GetInt32("boi_token_index") ?? 255_999,
            EndOfImageTokenId = root.GetInt32("eoi_token_index") ?? encoder.GetInt32("eoi_token_index") ?? 256_000,
            ImageTokenId = root.GetInt32("image_token_index") ?? encoder.GetInt32("image_token_index") ?? 256_001,
        };
    }
}
