using System.Text.Json;
using System.Text.Json.Nodes;
using T5Gemma2.Rag.Encoder.Models;

namespace T5Gemma2.Rag.Encoder.Checkpoints;

/// <summary>
/// Writes a Hugging Face checkpoint directory of a real architecture with seeded random weights, in one of the real
/// repositories' layouts (<see cref="RandomLayout"/>): config.json as transformers writes it, model.safetensors in BF16
/// under the hub's tensor names (text stacks, and the SigLIP tower and projector where the preset has one), the sentence-transformers
/// module files where the layout has them, and the tokenizer files when given. Tests, benchmarks and demos then run
/// with no download.
/// </summary>
public static class RandomCheckpoint
{
    /// <summary>Creates the checkpoint in <paramref name="outputDirectory"/> (created; must be empty or absent).</summary>
    /// <param name="tokenizerDirectory">A directory with tokenizer.json (and optionally tokenizer_config.json) to copy in; null writes none.</param>
    public static void Create(T5Gemma2Preset preset, int seed, string outputDirectory, string? tokenizerDirectory, CancellationToken cancellationToken = default) =>
        Create(RandomLayout.T5Gemma2, preset, seed, outputDirectory, tokenizerDirectory, cancellationToken);

    /// <summary>Creates a checkpoint of <paramref name="layout"/> in <paramref name="outputDirectory"/> (created; must be empty or absent).</summary>
    public static void Create(RandomLayout layout, T5Gemma2Preset preset, int seed, string outputDirectory, string? tokenizerDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(preset);
        var config = layout switch
        {
            RandomLayout.SentenceTransformersT5Gemma2Encoder => StandaloneEncoderConfig(preset),
            RandomLayout.EmbeddingGemma => EmbeddingGemmaConfig(preset),
            _ => Config(preset),
        };
        StagedDirectory.Write(outputDirectory, staging =>
        {
            File.WriteAllText(Path.Combine(staging, "config.json"), config.ToJsonString(s_indented));
            SafeTensorsWriter.Write(Path.Combine(staging, "model.safetensors"), Tensors(layout, config, preset, seed, cancellationToken), "BF16");
            SentenceTransformersFiles.Write(layout, preset, staging, (name, shape) => Normal(TensorData.CountElements(shape), 1f / MathF.Sqrt(shape[^1]), seed, name));
            if (tokenizerDirectory is not null)
            {
                foreach (string file in new[] { "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json" })
                {
                    string source = Path.Combine(tokenizerDirectory, file);
                    if (File.Exists(source))
                    {
                        File.Copy(source, Path.Combine(staging, file));
                    }
                    else if (file == "tokenizer.json")
                    {
                        throw new ModelFileException(source, "not found; expected the tokenizer to copy into the checkpoint.");
                    }
                }

                SentenceTransformersFiles.AdjustTokenizerConfig(layout, preset, staging);
            }

            return 0;
        });
    }

    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true };

    /// <summary>config.json of a standalone T5Gemma 2 encoder, as transformers saves <c>T5Gemma2Encoder</c> (sentence-transformers wraps it so).</summary>
    public static JsonObject StandaloneEncoderConfig(T5Gemma2Preset preset)
    {
        var encoder = (JsonObject)Config(preset)["encoder"]!.DeepClone();
        encoder["architectures"] = new JsonArray("T5Gemma2Encoder");
        encoder["_name_or_path"] = $"t5rag/random-st-t5gemma2-encoder-{preset.Name}";
        encoder["tie_word_embeddings"] = true;
        encoder["dtype"] = "bfloat16";
        return encoder;
    }

    /// <summary>
    /// config.json of a bidirectional Gemma 3 text model, with google/embeddinggemma-300m's keys as transformers 4.57
    /// wrote them (the legacy rope_theta / rope_local_base_freq / rope_scaling, not transformers 5's rope_parameters).
    /// </summary>
    public static JsonObject EmbeddingGemmaConfig(T5Gemma2Preset preset) => new()
    {
        ["_name_or_path"] = $"t5rag/random-embeddinggemma-{preset.Name}",
        ["_sliding_window_pattern"] = 6,
        ["architectures"] = new JsonArray("Gemma3TextModel"),
        ["attention_bias"] = false,
        ["attention_dropout"] = 0.0,
        ["attn_logit_softcapping"] = null,
        ["bos_token_id"] = 2,
        ["dtype"] = "float32",
        ["eos_token_id"] = 1,
        ["final_logit_softcapping"] = null,
        ["head_dim"] = preset.HeadDim,
        ["hidden_activation"] = "gelu_pytorch_tanh",
        ["hidden_size"] = preset.HiddenSize,
        ["initializer_range"] = 0.02,
        ["intermediate_size"] = preset.IntermediateSize,
        ["layer_types"] = new JsonArray([.. preset.LayerTypes.Select(t => (JsonNode)t)]),
        ["max_position_embeddings"] = preset.MaxPositionEmbeddings,
        ["model_type"] = "gemma3_text",
        ["num_attention_heads"] = preset.NumAttentionHeads,
        ["num_hidden_layers"] = preset.NumLayers,
        ["num_key_value_heads"] = preset.NumKeyValueHeads,
        ["pad_token_id"] = 0,
        ["query_pre_attn_scalar"] = preset.QueryPreAttentionScalar,
        ["rms_norm_eps"] = 1e-6,
        ["rope_local_base_freq"] = 10_000.0,
        ["rope_scaling"] = null,
        ["rope_theta"] = 1_000_000.0,
        ["sliding_window"] = preset.SlidingWindow,
        ["transformers_version"] = "4.57.0.dev0",
        ["use_bidirectional_attention"] = true,
        ["use_cache"] = true,
        ["vocab_size"] = T5Gemma2Preset.VocabSize,
    };

    /// <summary>config.json of a preset, in the layout of the hub's T5Gemma 2 configs.</summary>
    public static JsonObject Config(T5Gemma2Preset preset)
    {
        JsonObject Stack(string modelType) => new()
        {
            ["model_type"] = modelType,
            ["vocab_size"] = T5Gemma2Preset.VocabSize,
            ["hidden_size"] = preset.HiddenSize,
            ["intermediate_size"] = preset.IntermediateSize,
            ["num_hidden_layers"] = preset.NumLayers,
            ["num_attention_heads"] = preset.NumAttentionHeads,
            ["num_key_value_heads"] = preset.NumKeyValueHeads,
            ["head_dim"] = preset.HeadDim,
            ["query_pre_attn_scalar"] = preset.QueryPreAttentionScalar,
            ["hidden_activation"] = "gelu_pytorch_tanh",
            ["rms_norm_eps"] = 1e-6,
            ["sliding_window"] = preset.SlidingWindow,
            ["layer_types"] = new JsonArray([.. preset.LayerTypes.Select(t => (JsonNode)t)]),
            ["rope_parameters"] = new JsonObject
            {
                ["sliding_attention"] = new JsonObject { ["rope_type"] = "default", ["rope_theta"] = 10_000.0 },
                ["full_attention"] = new JsonObject { ["rope_type"] = "linear", ["factor"] = 8.0, ["rope_theta"] = 1_000_000.0 },
            },
            ["max_position_embeddings"] = preset.MaxPositionEmbeddings,
            ["attention_bias"] = false,
            ["attention_dropout"] = 0.0,
            ["dropout_rate"] = 0.0,
            ["attn_logit_softcapping"] = null,
            ["final_logit_softcapping"] = null,
            ["use_bidirectional_attention"] = false,
            ["tie_word_embeddings"] = true,
            ["pad_token_id"] = 0,
            ["eos_token_id"] = 1,
            ["bos_token_id"] = 2,
        };

        var encoder = new JsonObject
        {
            ["model_type"] = "t5gemma2_encoder",
            ["text_config"] = Stack("t5gemma2_text"),
        };
        if (preset.Vision is { } v)
        {
            encoder["vision_config"] = new JsonObject
            {
                ["model_type"] = "siglip_vision_model",
                ["hidden_size"] = v.HiddenSize,
                ["intermediate_size"] = v.IntermediateSize,
                ["num_hidden_layers"] = v.NumLayers,
                ["num_attention_heads"] = v.NumAttentionHeads,
                ["num_channels"] = 3,
                ["image_size"] = v.ImageSize,
                ["patch_size"] = v.PatchSize,
                ["layer_norm_eps"] = 1e-6,
                ["hidden_act"] = "gelu_pytorch_tanh",
                ["attention_dropout"] = 0.0,
                ["vision_use_head"] = false,
            };
            encoder["mm_tokens_per_image"] = v.TokensPerImage;
        }

        encoder["boi_token_index"] = 255_999;
        encoder["eoi_token_index"] = 256_000;
        encoder["image_token_index"] = 256_001;
        return new JsonObject
        {
            ["architectures"] = new JsonArray("T5Gemma2ForConditionalGeneration"),
            ["model_type"] = "t5gemma2",
            ["_name_or_path"] = $"t5rag/random-t5gemma-2-{preset.Name}",
            ["encoder"] = encoder,
            ["decoder"] = Stack("t5gemma2_decoder"),
            ["is_encoder_decoder"] = true,
            ["tie_word_embeddings"] = true,
            ["vocab_size"] = T5Gemma2Preset.VocabSize,
            ["eoi_token_index"] = 256_000,
            ["image_token_index"] = 256_001,
            ["bos_token_id"] = 2,
            ["eos_token_id"] = 1,
            ["pad_token_id"] = 0,
            ["dtype"] = "bfloat16",
        };
    }

    private static List<(string Name, long[] Shape, Func<float[]> Values)> Tensors(RandomLayout layout, JsonObject config, T5Gemma2Preset preset, int seed, CancellationToken cancellationToken)
    {
        // The preset's stack dimensions come from the same reader conversion uses, so the two cannot drift apart.
        using var document = JsonDocument.Parse(config.ToJsonString());
        var parsed = T5Gemma2Config.Parse(document.RootElement, "config.json");
        var stack = parsed.Encoder;
        var tensors = new List<(string, long[], Func<float[]>)>();
        // Full checkpoints store model.encoder.* and model.decoder.*; a standalone encoder and Gemma 3 store bare names.
        (string Prefix, bool WithEmbedding)[] stacks = layout == RandomLayout.T5Gemma2 ? [("model.encoder.", true), ("model.decoder.", false)] : [("", true)];
        foreach (var (prefix, withEmbedding) in stacks)
        {
            // The decoder's embedding is tied to the encoder's, as the hub stores it.
            foreach (var (suffix, shape) in T5Gemma2StackWeights.ExpectedTensors(stack, withEmbedding, parsed.Architecture))
            {
                string name = prefix + T5Gemma2StackWeights.StoredSuffix(suffix, parsed.Architecture);
                // Weights scaled as 1/√fan-in keep activations near unit size, so attention is peaked and bugs show.
                float std = suffix switch
                {
                    _ when suffix.EndsWith("norm.weight", StringComparison.Ordinal) => 0.1f,
                    "embed_tokens.weight" => 1f / MathF.Sqrt(preset.HiddenSize), // × √hidden in the model: unit size
                    "embed_tokens.eoi_embedding" => 1f, // used unscaled
                    _ => 1f / MathF.Sqrt(shape[^1]),
                };
                tensors.Add((name, shape, () =>
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    return Normal(TensorData.CountElements(shape), std, seed, prefix + suffix);
                }));
            }
        }

        if (layout != RandomLayout.EmbeddingGemma && parsed.Vision is { } vision)
        {
            // The full layout stores model.encoder.vision_tower.vision_model.*, a standalone encoder bare vision_tower.*.
            string prefix = layout == RandomLayout.T5Gemma2 ? "model.encoder." : "";
            foreach (var (suffix, shape) in T5Gemma2VisionWeights.ExpectedTensors(vision))
            {
                // LayerNorm weights near 1 (they multiply), Gemma's (1 + w) norm and biases small but non-zero: a zero
                // would hide a dropped term. The projection is used as x · W, so its fan-in is its first dimension.
                (float mean, float std) = suffix switch
                {
                    _ when suffix.Contains("layer_norm", StringComparison.Ordinal) && suffix.EndsWith(".weight", StringComparison.Ordinal) => (1f, 0.1f),
                    _ when suffix.EndsWith(".bias", StringComparison.Ordinal) => (0f, 0.1f),
                    "mm_soft_emb_norm.weight" => (0f, 0.5f),
                    "mm_input_projection_weight" => (0f, 1f / MathF.Sqrt(shape[0])),
                    "embeddings.position_embedding.weight" => (0f, 0.5f),
                    _ => (0f, 1f / MathF.Sqrt(TensorData.CountElements(shape) / shape[0])),
                };
                string name = prefix + T5Gemma2VisionWeights.LogicalName(suffix);
                tensors.Add((name, shape, () =>
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    float[] values = Normal(TensorData.CountElements(shape), std, seed, name);
                    for (int i = 0; i < values.Length && mean != 0; i++)
                    {
                        values[i] += mean;
                    }

                    return values;
                }));
            }
        }

        return tensors;
    }

    /// <summary>Deterministic normal samples: SplitMix64 seeded by the run's seed and the tensor's name, Box–Muller.</summary>
    private static float[] Normal(long count, float std, int seed, string name)
    {
        ulong state = (ulong)seed * 0x9E3779B97F4A7C15UL;
        foreach (char c in name)
        {
            state = (state ^ c) * 0x100000001B3UL;
        }

        var values = new float[count];
        for (long i = 0; i < count; i += 2)
        {
            double u1 = (Next(ref state) >> 11) * (1.0 / (1UL << 53));
            double u2 = (Next(ref state) >> 11) * (1.0 / (1UL << 53));
            double radius = Math.Sqrt(-2.0 * Math.Log(1.0 - u1));
            values[i] = (float)(radius * Math.Cos(2 * Math.PI * u2)) * std;
            if (i + 1 < count)
            {
                values[i + 1] = (float)(radius * Math.Sin(2 * Math.PI * u2)) * std;
            }
        }

        return values;
    }

    private static ulong Next(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
