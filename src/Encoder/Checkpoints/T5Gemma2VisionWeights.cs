using T5Gemma2.Rag.Encoder.Models;

namespace T5Gemma2.Rag.Encoder.Checkpoints;

/// <summary>
/// The SigLIP tower's and the projector's tensors (../shared/docs/t5gemma2-vision.md §3), found under whichever prefix
/// the checkpoint uses (the hub's <c>model.encoder.vision_tower.vision_model.*</c>, transformers ≥ 5.1's names without
/// <c>vision_model.</c>, or a standalone encoder's bare names) and checked against the config before anything is written.
/// </summary>
/// <remarks>
/// Callers name tower tensors by their suffix below the tower (<c>encoder.layers.0.mlp.fc1.weight</c>) and projector
/// tensors by theirs (<c>mm_input_projection_weight</c>, <c>mm_soft_emb_norm.weight</c>).
/// </remarks>
public sealed class T5Gemma2VisionWeights
{
    private const string ProbeSuffix = "embeddings.patch_embedding.weight";

    private static readonly string[] s_towerPrefixes =
    [
        "model.encoder.vision_tower.vision_model.", "model.encoder.vision_tower.", "encoder.vision_tower.vision_model.",
        "encoder.vision_tower.", "vision_tower.vision_model.", "vision_tower.",
    ];

    private static readonly string[] s_projectorPrefixes = ["model.encoder.multi_modal_projector.", "encoder.multi_modal_projector.", "multi_modal_projector."];

    private readonly SafeTensorsCheckpoint _checkpoint;
    private readonly string _towerPrefix;
    private readonly string _projectorPrefix;

    private T5Gemma2VisionWeights(SafeTensorsCheckpoint checkpoint, VisionConfig config, string towerPrefix, string projectorPrefix)
    {
        this._checkpoint = checkpoint;
        this.Config = config;
        this._towerPrefix = towerPrefix;
        this._projectorPrefix = projectorPrefix;
    }

    public VisionConfig Config { get; }

    /// <summary>
    /// Finds and checks the tower and projector. Null when the checkpoint has no tower at all (a text-only checkpoint,
    /// or a config without <c>vision_config</c>): such a model converts text-only.
    /// </summary>
    /// <exception cref="ModelFileException">The tower is there but a tensor is missing, or a shape contradicts config.json.</exception>
    public static T5Gemma2VisionWeights? Find(SafeTensorsCheckpoint checkpoint, VisionConfig? config, string configPath)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        string? tower = s_towerPrefixes.FirstOrDefault(p => checkpoint.TryGet(p + ProbeSuffix, out _));
        if (tower is null)
        {
            return null;
        }

        if (config is null)
        {
            throw new ModelFileException(configPath, $"has no encoder.vision_config, but the checkpoint has a vision tower ('{tower}{ProbeSuffix}'); expected the config the checkpoint was saved with.");
        }

        string projector = s_projectorPrefixes.FirstOrDefault(p => checkpoint.TryGet(p + "mm_input_projection_weight", out _)) ?? s_projectorPrefixes[^1];
        var weights = new T5Gemma2VisionWeights(checkpoint, config, tower, projector);
        checkpoint.RequireTensors(ExpectedTensors(config).Select(t => (weights.StoredName(t.Suffix), t.Shape)), $"{Path.GetFileName(configPath)}'s vision_config");
        return weights;
    }

    /// <summary>Every tensor of the tower and projector, by suffix, and the shape config.json implies for it.</summary>
    public static IEnumerable<(string Suffix, long[] Shape)> ExpectedTensors(VisionConfig c)
    {
        ArgumentNullException.ThrowIfNull(c);
        long h = c.HiddenSize, i = c.IntermediateSize;
        yield return ("embeddings.patch_embedding.weight", [h, 3, c.PatchSize, c.PatchSize]);
        yield return ("embeddings.patch_embedding.bias", [h]);
        yield return ("embeddings.position_embedding.weight", [(long)c.PatchesPerSide * c.PatchesPerSide, h]);
        for (int layer = 0; layer < c.NumLayers; layer++)
        {
            string p = $"encoder.layers.{layer}.";
            foreach (string norm in new[] { "layer_norm1", "layer_norm2" })
            {
                yield return (p + norm + ".weight", [h]);
                yield return (p + norm + ".bias", [h]);
            }

            foreach (string projection in new[] { "q_proj", "k_proj", "v_proj", "out_proj" })
            {
                yield return (p + "self_attn." + projection + ".weight", [h, h]);
                yield return (p + "self_attn." + projection + ".bias", [h]);
            }

            yield return (p + "mlp.fc1.weight", [i, h]);
            yield return (p + "mlp.fc1.bias", [i]);
            yield return (p + "mlp.fc2.weight", [h, i]);
            yield return (p + "mlp.fc2.bias", [h]);
        }

        yield return ("post_layernorm.weight", [h]);
        yield return ("post_layernorm.bias", [h]);
        yield return ("mm_input_projection_weight", [h, c.TextHiddenSize]);
        yield return ("mm_soft_emb_norm.weight", [h]);
    }

    /// <summary>A tensor's name below the encoder, as the hub stores it (<c>vision_tower.vision_model.*</c>, <c>multi_modal_projector.*</c>).</summary>
    public static string LogicalName(string suffix) => suffix.StartsWith("mm_", StringComparison.Ordinal)
        ? "multi_modal_projector." + suffix
        : "vision_tower.vision_model." + suffix;

    public SafeTensorInfo Tensor(string suffix)
    {
        string name = this.StoredName(suffix);
        return this._checkpoint.TryGet(name, out var info) ? info : throw new ModelFileException(this._checkpoint.Directory, $"tensor '{name}' is missing.");
    }

    public float[] Read(string suffix) => this._checkpoint.ReadFloat32(this.Tensor(suffix));

    private string StoredName(string suffix) =>
        (suffix.StartsWith("mm_", StringComparison.Ordinal) ? this._projectorPrefix : this._towerPrefix) + suffix;
}
