using System.Globalization;
using System.Text.Json;

namespace T5Gemma2.Rag.Encoder.Models;

/// <summary>
/// The config.json of a model whose encoder our graph builder writes, as Hugging Face writes it: <c>model_type</c>
/// "t5gemma2" with <c>encoder.text_config</c> and <c>decoder</c>; a standalone T5Gemma 2 encoder ("t5gemma2_encoder"
/// with <c>text_config</c>, or "t5gemma2_text" with the fields at the top); or a bidirectional Gemma 3 text model
/// ("gemma3_text" with <c>use_bidirectional_attention</c>, EmbeddingGemma). Defaults follow transformers' config
/// classes where a field is absent; every value a graph depends on is checked, and a bad one is named.
/// </summary>
public sealed class T5Gemma2Config
{
    private T5Gemma2Config(string path, string modelType, EncoderArchitecture architecture, T5Gemma2StackConfig encoder, T5Gemma2StackConfig? decoder)
    {
        this.FilePath = path;
        this.ModelType = modelType;
        this.Architecture = architecture;
        this.Encoder = encoder;
        this.Decoder = decoder;
    }

    public string FilePath { get; }

    /// <summary>config.json's <c>model_type</c>.</summary>
    public string ModelType { get; }

    /// <summary>The encoder's family: what its graph has beyond the shared blocks (image input, eoi vector, window shape).</summary>
    public EncoderArchitecture Architecture { get; }

    public T5Gemma2StackConfig Encoder { get; }

    /// <summary>The decoder stack; null for an encoder-only config.</summary>
    public T5Gemma2StackConfig? Decoder { get; }

    /// <summary><c>&lt;end_of_image&gt;</c>: its positions take the learned eoi_embedding instead of a scaled row.</summary>
    public int EndOfImageTokenId { get; private init; }

    /// <summary><c>&lt;image_soft_token&gt;</c>: its positions take the image features (256001 in the released models).</summary>
    public int ImageTokenId { get; private init; }

    public int BosTokenId { get; private init; }

    public int EosTokenId { get; private init; }

    public int PadTokenId { get; private init; }

    /// <summary>The SigLIP tower and projector's settings (<c>encoder.vision_config</c>); null when the config has none.</summary>
    public VisionConfig? Vision { get; private init; }

    /// <summary>config.json's <c>_name_or_path</c>, when it has one.</summary>
    public string? ModelName { get; private init; }

    /// <exception cref="ModelFileException">The file is missing, not JSON, not a T5Gemma 2 config, or a field has an unusable value.</exception>
    public static T5Gemma2Config Read(string path) =>
        Parse(ConfigFile.Read(path, required: true, "a T5Gemma 2 config.json")!.Value, path);

    /// <summary>Reads a config already parsed; <paramref name="path"/> names it in errors.</summary>
    public static T5Gemma2Config Parse(JsonElement root, string path)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new ModelFileException(path, "is not a JSON object; expected a T5Gemma 2 config.json.");
        }

        string? modelType = root.GetString("model_type");
        JsonElement encoderText;
        JsonElement? decoder = null;
        JsonElement encoderSection = root;
        string where = "encoder.text_config";
        var architecture = EncoderArchitecture.T5Gemma2;
        switch (modelType)
        {
            case "t5gemma2":
                encoderSection = Require(root, "encoder", path);
                encoderText = encoderSection.TryGetProperty("text_config", out var text) && text.ValueKind == JsonValueKind.Object ? text : encoderSection;
                decoder = Require(root, "decoder", path);
                break;
            case "t5gemma2_encoder":
                encoderText = root.TryGetProperty("text_config", out var encoderOnly) && encoderOnly.ValueKind == JsonValueKind.Object ? encoderOnly : root;
                where = encoderText.Equals(root) ? "" : "text_config";
                break;
            case "t5gemma2_text":
                encoderText = root;
                where = "";
                break;
            case "gemma3_text":
                encoderText = root;
                where = "";
                architecture = EncoderArchitecture.Gemma3Bidirectional;
                break;
            default:
                throw new ModelFileException(path, $"model_type is \"{modelType}\"; expected \"t5gemma2\", \"t5gemma2_encoder\" or \"t5gemma2_text\" (a T5Gemma 2 encoder) or \"gemma3_text\" (a bidirectional Gemma 3 such as EmbeddingGemma).");
        }

        var encoder = ReadStack(encoderText, path, where, architecture);
        var decoderStack = decoder is { } d ? ReadStack(d, path, "decoder", EncoderArchitecture.T5Gemma2) : null;
        if (decoderStack is not null && (decoderStack.HiddenSize != encoder.HiddenSize || decoderStack.VocabSize != encoder.VocabSize))
        {
            throw new ModelFileException(path, $"encoder and decoder differ in hidden_size ({encoder.HiddenSize} vs {decoderStack.HiddenSize}) or vocab_size ({encoder.VocabSize} vs {decoderStack.VocabSize}); expected them equal (the embedding is tied).");
        }

        return new T5Gemma2Config(path, modelType, architecture, encoder, decoderStack)
        {
            EndOfImageTokenId = root.GetInt32("eoi_token_index") ?? encoderSection.GetInt32("eoi_token_index") ?? 256_000,
            ImageTokenId = root.GetInt32("image_token_index") ?? encoderSection.GetInt32("image_token_index") ?? 256_001,
            BosTokenId = root.GetInt32("bos_token_id") ?? decoder?.GetInt32("bos_token_id") ?? 2,
            EosTokenId = ReadEos(root) ?? (decoder is { } dd ? ReadEos(dd) : null) ?? 1,
            PadTokenId = root.GetInt32("pad_token_id") ?? decoder?.GetInt32("pad_token_id") ?? 0,
            ModelName = root.GetString("_name_or_path") is { Length: > 0 } name ? name : null,
            Vision = architecture == EncoderArchitecture.T5Gemma2 ? VisionConfig.Read(root, encoderSection, encoder.HiddenSize, path) : null,
        };
    }

    private static T5Gemma2StackConfig ReadStack(JsonElement section, string path, string where, EncoderArchitecture architecture)
    {
        int hidden = Positive(section, "hidden_size", 2304, path, where);
        int heads = Positive(section, "num_attention_heads", 8, path, where);
        int kvHeads = Positive(section, "num_key_value_heads", 4, path, where);
        int layers = Positive(section, "num_hidden_layers", 26, path, where);
        if (heads % kvHeads != 0)
        {
            throw Bad(path, where, "num_key_value_heads", kvHeads.ToString(CultureInfo.InvariantCulture), $"a divisor of num_attention_heads ({heads})");
        }

        string activation = section.GetString("hidden_activation") ?? "gelu_pytorch_tanh";
        if (activation is not ("gelu_pytorch_tanh" or "gelu_new"))
        {
            throw Bad(path, where, "hidden_activation", activation, "\"gelu_pytorch_tanh\" (GeGLU with the tanh GELU)");
        }

        bool bidirectional = section.GetBoolean("use_bidirectional_attention") == true;
        int window = Positive(section, "sliding_window", 4096, path, where);
        (int Left, int Right) reach;
        if (architecture == EncoderArchitecture.Gemma3Bidirectional)
        {
            if (!bidirectional)
            {
                // A causal Gemma 3 is a decoder-only language model, not an encoder whose states can be pooled.
                throw Bad(path, where, "use_bidirectional_attention", section.TryGetProperty("use_bidirectional_attention", out var flag) ? flag.GetRawText() : "absent", "true (a bidirectional Gemma 3 such as EmbeddingGemma; a causal Gemma 3 is not an encoder)");
            }

            if (Number(section, "attn_logit_softcapping") is double cap)
            {
                // transformers' Gemma 3 attention never applies it, so a graph that did would disagree with the reference.
                throw Bad(path, where, "attn_logit_softcapping", cap.ToString(CultureInfo.InvariantCulture), "null (Gemma 3's attention does not soft-cap)");
            }

            // transformers turns the stored window W into W // 2 + 1 when it loads a bidirectional config, once; a query
            // then sees the keys within W' − 1 on either side.
            int loaded = window / 2 + 1;
            reach = (loaded - 1, loaded - 1);
        }
        else
        {
            if (bidirectional)
            {
                // transformers halves the sliding window of such configs on load; no released T5Gemma 2 config sets it.
                throw Bad(path, where, "use_bidirectional_attention", "true", "false (the released T5Gemma 2 configs)");
            }

            reach = T5Gemma2StackConfig.T5Gemma2WindowReach(window);
        }

        if (section.GetBoolean("attention_bias") == true)
        {
            throw Bad(path, where, "attention_bias", "true", "false (the released models have no attention biases)");
        }

        return new T5Gemma2StackConfig
        {
            VocabSize = Positive(section, "vocab_size", 262_208, path, where),
            HiddenSize = hidden,
            IntermediateSize = Positive(section, "intermediate_size", 9216, path, where),
            NumLayers = layers,
            NumAttentionHeads = heads,
            NumKeyValueHeads = kvHeads,
            HeadDim = Positive(section, "head_dim", 256, path, where),
            QueryPreAttentionScalar = PositiveNumber(section, "query_pre_attn_scalar", 256, path, where),
            RmsNormEps = PositiveNumber(section, "rms_norm_eps", 1e-6, path, where),
            SlidingWindow = window,
            BidirectionalWindowReach = reach,
            LayerTypes = ReadLayerTypes(section, layers, path, where),
            SlidingRope = ReadRope(section, "sliding_attention", path, where),
            FullRope = ReadRope(section, "full_attention", path, where),
            MaxPositionEmbeddings = Positive(section, "max_position_embeddings", 131_072, path, where),
            AttentionLogitSoftcapping = architecture == EncoderArchitecture.T5Gemma2 ? Number(section, "attn_logit_softcapping") : null,
            FinalLogitSoftcapping = Number(section, "final_logit_softcapping"),
        };
    }

    private static AttentionLayerType[] ReadLayerTypes(JsonElement section, int layers, string path, string where)
    {
        if (section.TryGetProperty("layer_types", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            var types = list.EnumerateArray().Select(e => e.GetString() switch
            {
                "sliding_attention" => AttentionLayerType.Sliding,
                "full_attention" => AttentionLayerType.Full,
                var other => throw Bad(path, where, "layer_types", $"\"{other}\"", "\"sliding_attention\" or \"full_attention\" entries"),
            }).ToArray();
            if (types.Length != layers)
            {
                throw Bad(path, where, "layer_types", $"{types.Length} entries", $"one per layer ({layers})");
            }

            return types;
        }

        // transformers' default: every sliding_window_pattern-th layer (6) is global.
        int pattern = Positive(section, "sliding_window_pattern", 6, path, where);
        return [.. Enumerable.Range(0, layers).Select(i => (i + 1) % pattern == 0 ? AttentionLayerType.Full : AttentionLayerType.Sliding)];
    }

    private static RopeSettings ReadRope(JsonElement section, string layerType, string path, string where)
    {
        double defaultTheta = layerType == "full_attention"
            ? Number(section, "rope_theta") ?? 1_000_000
            : Number(section, "rope_local_base_freq") ?? 10_000;
        JsonElement? parameters = null;
        if (section.TryGetProperty("rope_parameters", out var table) && table.ValueKind == JsonValueKind.Object && table.TryGetProperty(layerType, out var entry) && entry.ValueKind == JsonValueKind.Object)
        {
            parameters = entry;
        }
        else if (layerType == "full_attention" && section.TryGetProperty("rope_scaling", out var legacy) && legacy.ValueKind == JsonValueKind.Object)
        {
            // Legacy configs: rope_scaling applies to the global layers only.
            parameters = legacy;
        }

        if (parameters is not { } p)
        {
            return new RopeSettings(defaultTheta, 1);
        }

        string type = p.GetString("rope_type") ?? p.GetString("type") ?? "default";
        double theta = Number(p, "rope_theta") ?? defaultTheta;
        if (theta <= 0)
        {
            throw Bad(path, where, $"rope_parameters.{layerType}.rope_theta", theta.ToString(CultureInfo.InvariantCulture), "a positive number");
        }

        return type switch
        {
            "default" => new RopeSettings(theta, 1),
            "linear" => new RopeSettings(theta, Number(p, "factor") is double factor && factor > 0 ? factor : throw Bad(path, where, $"rope_parameters.{layerType}.factor", p.TryGetProperty("factor", out var f) ? f.GetRawText() : "missing", "a positive number for linear scaling")),
            _ => throw Bad(path, where, $"rope_parameters.{layerType}.rope_type", $"\"{type}\"", "\"default\" or \"linear\""),
        };
    }

    private static int? ReadEos(JsonElement element) =>
        element.TryGetProperty("eos_token_id", out var eos) ? eos.ValueKind switch
        {
            JsonValueKind.Number => eos.GetInt32(),
            JsonValueKind.Array when eos.GetArrayLength() > 0 => eos[0].GetInt32(),
            _ => null,
        } : null;

    private static JsonElement Require(JsonElement root, string property, string path) =>
        root.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Object
            ? value
            : throw new ModelFileException(path, $"has no \"{property}\" section; expected a T5Gemma 2 config with encoder and decoder.");

    internal static int Positive(JsonElement section, string field, int fallback, string path, string where)
    {
        if (!section.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int number) && number > 0
            ? number
            : throw Bad(path, where, field, value.GetRawText(), "a positive integer");
    }

    internal static double PositiveNumber(JsonElement section, string field, double fallback, string path, string where) =>
        Number(section, field) is not double value ? fallback
        : value > 0 ? value
        : throw Bad(path, where, field, value.ToString(CultureInfo.InvariantCulture), "a positive number");

    internal static double? Number(JsonElement section, string field) =>
        section.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;

    internal static ModelFileException Bad(string path, string where, string field, string found, string expected) =>
        new(path, $"field '{(where.Length == 0 ? field : where + "." + field)}' is {found}; expected {expected}.");
}
