using T5Gemma2.Rag.Encoder.Models;

namespace T5Gemma2.Rag.Encoder.Checkpoints;

/// <summary>
/// The tensor names and shapes one stack needs, found in a checkpoint under whichever prefix it uses (hub checkpoints
/// store <c>model.encoder.*</c>; newer transformers name the text encoder <c>model.encoder.text_model.*</c>; a standalone
/// encoder or EmbeddingGemma stores bare <c>layers.*</c>), and checked against the config before anything is written.
/// </summary>
/// <remarks>
/// Callers name tensors by T5Gemma 2's suffixes (<c>layers.0.pre_self_attn_layernorm.weight</c>); a Gemma 3 checkpoint's
/// own names for the two attention norms are mapped here, so the graph builder has one vocabulary.
/// </remarks>
public sealed class T5Gemma2StackWeights
{
    private readonly SafeTensorsCheckpoint _checkpoint;
    private readonly string _prefix;
    private readonly EncoderArchitecture _architecture;

    private T5Gemma2StackWeights(SafeTensorsCheckpoint checkpoint, string prefix, T5Gemma2StackConfig config, EncoderArchitecture architecture)
    {
        this._checkpoint = checkpoint;
        this._prefix = prefix;
        this.Config = config;
        this._architecture = architecture;
    }

    public T5Gemma2StackConfig Config { get; }

    /// <summary>Finds and checks the encoder's weights.</summary>
    /// <exception cref="ModelFileException">A tensor is missing or its shape contradicts config.json.</exception>
    public static T5Gemma2StackWeights ForEncoder(SafeTensorsCheckpoint checkpoint, T5Gemma2Config config) =>
        Find(checkpoint, config, config.Encoder, ["model.encoder.text_model.", "model.encoder.", "encoder.text_model.", "encoder.", "text_model.", "model.", ""], withEmbedding: true, config.Architecture);

    /// <summary>Finds and checks the decoder's weights (its embedding is tied to the encoder's, so none is required).</summary>
    /// <exception cref="ModelFileException">The config has no decoder, or a tensor is missing or its shape contradicts config.json.</exception>
    public static T5Gemma2StackWeights ForDecoder(SafeTensorsCheckpoint checkpoint, T5Gemma2Config config) =>
        config.Decoder is { } decoder
            ? Find(checkpoint, config, decoder, ["model.decoder.", "decoder."], withEmbedding: false, EncoderArchitecture.T5Gemma2)
            : throw new ModelFileException(config.FilePath, "has no decoder section; expected an encoder-decoder T5Gemma 2 config to generate text.");

    /// <summary>The tensor that holds <paramref name="suffix"/> of this stack (e.g. "layers.0.mlp.up_proj.weight").</summary>
    public SafeTensorInfo Tensor(string suffix)
    {
        string name = this._prefix + StoredSuffix(suffix, this._architecture);
        return this._checkpoint.TryGet(name, out var info) ? info : throw new ModelFileException(this._checkpoint.Directory, $"tensor '{name}' is missing.");
    }

    /// <summary>The name a checkpoint of <paramref name="architecture"/> stores a tensor under, from its T5Gemma 2 suffix.</summary>
    public static string StoredSuffix(string suffix, EncoderArchitecture architecture) => architecture == EncoderArchitecture.Gemma3Bidirectional
        ? suffix.Replace(".pre_self_attn_layernorm.", ".input_layernorm.", StringComparison.Ordinal).Replace(".post_self_attn_layernorm.", ".post_attention_layernorm.", StringComparison.Ordinal)
        : suffix;

    public float[] Read(string suffix) => this._checkpoint.ReadFloat32(this.Tensor(suffix));

    /// <summary>Every tensor of a stack (by its T5Gemma 2 suffix) and the shape config.json implies for it.</summary>
    /// <param name="withEmbedding">Whether the stack stores the embedding (the encoder) or ties it (the decoder).</param>
    /// <param name="architecture">Gemma 3 has no eoi vector.</param>
    public static IEnumerable<(string Suffix, long[] Shape)> ExpectedTensors(T5Gemma2StackConfig c, bool withEmbedding, EncoderArchitecture architecture = EncoderArchitecture.T5Gemma2)
    {
        long h = c.HiddenSize, q = (long)c.NumAttentionHeads * c.HeadDim, kv = (long)c.NumKeyValueHeads * c.HeadDim, i = c.IntermediateSize;
        if (withEmbedding)
        {
            yield return ("embed_tokens.weight", [c.VocabSize, h]);
            if (architecture == EncoderArchitecture.T5Gemma2)
            {
                yield return ("embed_tokens.eoi_embedding", [h]);
            }
        }

        for (int layer = 0; layer < c.NumLayers; layer++)
        {
            string p = $"layers.{layer}.";
            yield return (p + "self_attn.q_proj.weight", [q, h]);
            yield return (p + "self_attn.k_proj.weight", [kv, h]);
            yield return (p + "self_attn.v_proj.weight", [kv, h]);
            yield return (p + "self_attn.o_proj.weight", [h, q]);
            yield return (p + "self_attn.q_norm.weight", [c.HeadDim]);
            yield return (p + "self_attn.k_norm.weight", [c.HeadDim]);
            yield return (p + "pre_self_attn_layernorm.weight", [h]);
            yield return (p + "post_self_attn_layernorm.weight", [h]);
            yield return (p + "pre_feedforward_layernorm.weight", [h]);
            yield return (p + "post_feedforward_layernorm.weight", [h]);
            yield return (p + "mlp.gate_proj.weight", [i, h]);
            yield return (p + "mlp.up_proj.weight", [i, h]);
            yield return (p + "mlp.down_proj.weight", [h, i]);
        }

        yield return ("norm.weight", [h]);
    }

    private static T5Gemma2StackWeights Find(SafeTensorsCheckpoint checkpoint, T5Gemma2Config config, T5Gemma2StackConfig stack, string[] prefixes, bool withEmbedding, EncoderArchitecture architecture)
    {
        string? prefix = prefixes.FirstOrDefault(p => checkpoint.TryGet(p + "layers.0.self_attn.q_proj.weight", out _));
        if (prefix is null)
        {
            throw new ModelFileException(checkpoint.Directory, $"no tensor '{prefixes[1]}layers.0.self_attn.q_proj.weight' (nor under {string.Join(", ", prefixes.Select(p => $"'{p}'"))}); expected a {(architecture == EncoderArchitecture.T5Gemma2 ? "T5Gemma 2" : "Gemma 3")} checkpoint.");
        }

        checkpoint.RequireTensors(ExpectedTensors(stack, withEmbedding, architecture).Select(t => (prefix + StoredSuffix(t.Suffix, architecture), t.Shape)), Path.GetFileName(config.FilePath));
        return new T5Gemma2StackWeights(checkpoint, prefix, stack, architecture);
    }
}
