using System.Text.Json;
using System.Text.Json.Nodes;
using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Conversion;

/// <summary>
/// <c>create-random</c>'s sentence-transformers layouts checked file by file against the real repositories' layouts
/// (the expectations are written out here from the implementation spec §1.1–1.7, not taken from the writer): file
/// names, JSON keys and values, tensor names, shapes and dtypes read back with <see cref="SafeTensorsFile"/>.
/// </summary>
public sealed class RandomLayoutTests(SharedTinySentenceTransformers layouts)
{
    [Fact]
    public void EmbeddingGemmaHasExactlyTheRepositoryFiles()
    {
        Assert.Equal(
            ["1_Pooling/config.json", "2_Dense/config.json", "2_Dense/model.safetensors", "3_Dense/config.json", "3_Dense/model.safetensors",
             "config.json", "config_sentence_transformers.json", "model.safetensors", "modules.json", "sentence_bert_config.json", "tokenizer.json", "tokenizer_config.json"],
            Files(layouts.EmbeddingGemmaCheckpoint));
    }

    [Fact]
    public void EmbeddingGemmaModuleFilesHaveTheRepositoryKeys()
    {
        string d = layouts.EmbeddingGemmaCheckpoint;
        AssertJson(d, "modules.json", """
                [{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
                 {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},
                 {"idx":2,"name":"2","path":"2_Dense","type":"sentence_transformers.models.Dense"},
                 {"idx":3,"name":"3","path":"3_Dense","type":"sentence_transformers.models.Dense"},
                 {"idx":4,"name":"4","path":"4_Normalize","type":"sentence_transformers.models.Normalize"}]
                """);
        AssertJson(d, "sentence_bert_config.json", """{"max_seq_length": 512, "do_lower_case": false}""");
        AssertJson(d, "1_Pooling/config.json", """
                {"word_embedding_dimension": 16, "pooling_mode_cls_token": false, "pooling_mode_mean_tokens": true,
                 "pooling_mode_max_tokens": false, "pooling_mode_mean_sqrt_len_tokens": false,
                 "pooling_mode_weightedmean_tokens": false, "pooling_mode_lasttoken": false, "include_prompt": true}
                """);
        AssertJson(d, "2_Dense/config.json", """{"in_features": 16, "out_features": 64, "bias": false, "activation_function": "torch.nn.modules.linear.Identity"}""");
        AssertJson(d, "3_Dense/config.json", """{"in_features": 64, "out_features": 16, "bias": false, "activation_function": "torch.nn.modules.linear.Identity"}""");
        AssertTensors(Path.Combine(d, "2_Dense", "model.safetensors"), new() { ["linear.weight"] = [64, 16] }, "F32");
        AssertTensors(Path.Combine(d, "3_Dense", "model.safetensors"), new() { ["linear.weight"] = [16, 64] }, "F32");

        var model = Json(d, "config_sentence_transformers.json").AsObject();
        Assert.Equal("SentenceTransformer", (string?)model["model_type"]);
        Assert.Equal("cosine", (string?)model["similarity_fn_name"]);
        Assert.Null(model["default_prompt_name"]);
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""
                {"query": "task: search result | query: ", "document": "title: none | text: ",
                 "BitextMining": "task: search result | query: ", "Clustering": "task: clustering | query: ",
                 "Classification": "task: classification | query: ", "InstructionRetrieval": "task: code retrieval | query: ",
                 "MultilabelClassification": "task: classification | query: ", "PairClassification": "task: sentence similarity | query: ",
                 "Reranking": "task: search result | query: ", "Retrieval": "task: search result | query: ",
                 "Retrieval-query": "task: search result | query: ", "Retrieval-document": "title: none | text: ",
                 "STS": "task: sentence similarity | query: ", "Summarization": "task: summarization | query: "}
                """),
            model["prompts"]));

        // The Gemma tokenizer appends <eos> (id 1) as EmbeddingGemma does.
        var tokenizer = Json(d, "tokenizer_config.json");
        Assert.True((bool)tokenizer["add_bos_token"]!);
        Assert.True((bool)tokenizer["add_eos_token"]!);
        Assert.Equal("<eos>", (string?)tokenizer["eos_token"]);
    }

    [Fact]
    public void EmbeddingGemmaBackboneHasGemma3TensorNamesWithoutPrefixOrEoi()
    {
        var expected = new Dictionary<string, long[]> { ["embed_tokens.weight"] = [262_144, 16], ["norm.weight"] = [16] };
        for (int i = 0; i < 4; i++)
        {
            foreach (string norm in new[] { "input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm" })
            {
                expected[$"layers.{i}.{norm}.weight"] = [16];
            }

            // 4 query heads and 2 key/value heads of 8; GeGLU 24 wide.
            expected[$"layers.{i}.self_attn.q_proj.weight"] = [32, 16];
            expected[$"layers.{i}.self_attn.k_proj.weight"] = [16, 16];
            expected[$"layers.{i}.self_attn.v_proj.weight"] = [16, 16];
            expected[$"layers.{i}.self_attn.o_proj.weight"] = [16, 32];
            expected[$"layers.{i}.self_attn.q_norm.weight"] = [8];
            expected[$"layers.{i}.self_attn.k_norm.weight"] = [8];
            expected[$"layers.{i}.mlp.gate_proj.weight"] = [24, 16];
            expected[$"layers.{i}.mlp.up_proj.weight"] = [24, 16];
            expected[$"layers.{i}.mlp.down_proj.weight"] = [16, 24];
        }

        AssertTensors(Path.Combine(layouts.EmbeddingGemmaCheckpoint, "model.safetensors"), expected, "BF16");
    }

    [Fact]
    public void EmbeddingGemma300mConfigIsTheHubConfig()
    {
        // google/embeddinggemma-300m's config.json (spec §1.7), but for its name.
        var expected = JsonNode.Parse("""
            {"_sliding_window_pattern": 6, "architectures": ["Gemma3TextModel"], "attention_bias": false, "attention_dropout": 0.0,
             "attn_logit_softcapping": null, "bos_token_id": 2, "dtype": "float32", "eos_token_id": 1, "final_logit_softcapping": null,
             "head_dim": 256, "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 768, "initializer_range": 0.02,
             "intermediate_size": 1152, "max_position_embeddings": 2048,
             "model_type": "gemma3_text", "num_attention_heads": 3, "num_hidden_layers": 24, "num_key_value_heads": 1, "pad_token_id": 0,
             "query_pre_attn_scalar": 256, "rms_norm_eps": 1e-06, "rope_local_base_freq": 10000.0, "rope_scaling": null,
             "rope_theta": 1000000.0, "sliding_window": 512, "transformers_version": "4.57.0.dev0",
             "use_bidirectional_attention": true, "use_cache": true, "vocab_size": 262144}
            """)!.AsObject();
        string[] six = ["sliding_attention", "sliding_attention", "sliding_attention", "sliding_attention", "sliding_attention", "full_attention"];
        expected["layer_types"] = new JsonArray([.. Enumerable.Repeat(six, 4).SelectMany(t => t).Select(t => (JsonNode)t)]);
        var actual = RandomCheckpoint.EmbeddingGemmaConfig(T5Gemma2Preset.EmbeddingGemma300m);
        actual.Remove("_name_or_path");

        Assert.True(JsonNode.DeepEquals(Normalized(expected), Normalized(actual)), actual.ToJsonString());
        Assert.Equal("300m", T5Gemma2Preset.Find("300m", RandomLayout.EmbeddingGemma)?.Name);
        Assert.Null(T5Gemma2Preset.Find("300m", RandomLayout.T5Gemma2));
    }

    [Fact]
    public void EmbeddingGemmaConfigReadsTheSameInTransformers5RopeParametersForm()
    {
        // transformers 5 saves rope_parameters in place of the legacy keys; both mean the same model.
        var legacy = RandomCheckpoint.EmbeddingGemmaConfig(T5Gemma2Preset.EmbeddingGemma300m);
        var modern = (JsonObject)legacy.DeepClone();
        modern.Remove("rope_theta");
        modern.Remove("rope_local_base_freq");
        modern.Remove("rope_scaling");
        modern["rope_parameters"] = JsonNode.Parse("""{"full_attention": {"rope_type": "default", "rope_theta": 1000000.0}, "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}}""");

        var a = Parse(legacy).Encoder;
        var b = Parse(modern).Encoder;

        Assert.Equal(new RopeSettings(1_000_000, 1), a.FullRope);
        Assert.Equal(new RopeSettings(10_000, 1), a.SlidingRope);
        Assert.Equal(a.FullRope, b.FullRope);
        Assert.Equal(a.SlidingRope, b.SlidingRope);
        // W = 512 loads as W' = 257: 256 keys on either side, applied once.
        Assert.Equal((256, 256), a.BidirectionalWindowReach);
        Assert.Equal(512, a.SlidingWindow);
        Assert.Equal(EncoderArchitecture.Gemma3Bidirectional, Parse(legacy).Architecture);
    }

    [Fact]
    public void StandaloneEncoderHasExactlyTheRepositoryFiles()
    {
        Assert.Equal(
            ["1_Pooling/config.json", "2_Normalize/config.json", "config.json", "config_sentence_transformers.json", "model.safetensors", "modules.json",
             "preprocessor_config.json", "processor_config.json", "sentence_bert_config.json", "tokenizer.json", "tokenizer_config.json"],
            Files(layouts.StandaloneEncoderCheckpoint));
    }

    [Fact]
    public void StandaloneEncoderModuleFilesHaveTheNewSentenceTransformersKeys()
    {
        string d = layouts.StandaloneEncoderCheckpoint;
        AssertJson(d, "modules.json", """
                [{"idx":0,"name":"0","path":"","type":"sentence_transformers.base.modules.transformer.Transformer"},
                 {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.sentence_transformer.modules.pooling.Pooling"},
                 {"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.base.modules.normalize.Normalize"}]
                """);
        AssertJson(d, "sentence_bert_config.json", """{"transformer_task": "feature-extraction", "modality_config": {"text": {"method": "forward", "method_output_name": "last_hidden_state"}}, "module_output_name": "token_embeddings"}""");
        AssertJson(d, "1_Pooling/config.json", """{"embedding_dimension": 16, "pooling_mode": "mean", "include_prompt": true}""");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"query": "query: ", "document": "document: "}"""), Json(d, "config_sentence_transformers.json")["prompts"]));
        Assert.Equal("Gemma3Processor", (string?)Json(d, "processor_config.json")["processor_class"]);
        Assert.Equal("Gemma3ImageProcessor", (string?)Json(d, "preprocessor_config.json")["image_processor_type"]);

        var config = Json(d, "config.json").AsObject();
        Assert.Equal("t5gemma2_encoder", (string?)config["model_type"]);
        Assert.Equal("T5Gemma2Encoder", (string?)config["architectures"]![0]);
        Assert.Equal("t5gemma2_text", (string?)config["text_config"]!["model_type"]);
        Assert.Equal("siglip_vision_model", (string?)config["vision_config"]!["model_type"]);
        foreach (string key in new[] { "boi_token_index", "eoi_token_index", "image_token_index", "mm_tokens_per_image", "tie_word_embeddings" })
        {
            Assert.True(config.ContainsKey(key), $"config.json lacks {key}");
        }

        Assert.False(config.ContainsKey("decoder"));
    }

    [Fact]
    public void StandaloneEncoderStoresBareT5Gemma2NamesAndNoDecoder()
    {
        using var file = SafeTensorsFile.Open(Path.Combine(layouts.StandaloneEncoderCheckpoint, "model.safetensors"));

        Assert.Equal([262_144, 16], file.Tensors["embed_tokens.weight"].Shape);
        Assert.Equal([16], file.Tensors["embed_tokens.eoi_embedding"].Shape);
        Assert.Equal([16], file.Tensors["layers.3.pre_self_attn_layernorm.weight"].Shape);
        Assert.Equal([16], file.Tensors["layers.3.post_self_attn_layernorm.weight"].Shape);
        Assert.Equal([16], file.Tensors["norm.weight"].Shape);
        Assert.Equal([24, 3, 7, 7], file.Tensors["vision_tower.vision_model.embeddings.patch_embedding.weight"].Shape);
        Assert.Equal([24, 16], file.Tensors["multi_modal_projector.mm_input_projection_weight"].Shape);
        Assert.DoesNotContain(file.Tensors.Keys, k => k.StartsWith("model.", StringComparison.Ordinal) || k.StartsWith("decoder.", StringComparison.Ordinal) || k.Contains("input_layernorm", StringComparison.Ordinal));
        // Text: 2 embedding tensors, 13 per layer, the final norm. The tiny SigLIP tower: patch weight and bias, position
        // embedding, 16 per layer (two norms, q/k/v/out and fc1/fc2 with biases), the post norm; the projector's two.
        Assert.Equal(2 + 4 * 13 + 1 + 3 + 2 * 16 + 2 + 2, file.Tensors.Count);
        Assert.All(file.Tensors.Values, t => Assert.Equal("BF16", t.DataType));
    }

    [Fact]
    public void EmbeddingGemmaPresetsHaveTheAskedDimensions()
    {
        var tiny = T5Gemma2Preset.Find("tiny", RandomLayout.EmbeddingGemma)!;
        Assert.Equal((16, 4, 4, 2, 8, 12, 4), (tiny.HiddenSize, tiny.NumLayers, tiny.NumAttentionHeads, tiny.NumKeyValueHeads, tiny.HeadDim, tiny.QueryPreAttentionScalar, tiny.SlidingWindow));
        Assert.Equal(["sliding_attention", "sliding_attention", "full_attention", "sliding_attention"], tiny.LayerTypes);
    }

    private static T5Gemma2Config Parse(JsonObject config)
    {
        using var document = JsonDocument.Parse(config.ToJsonString());
        return T5Gemma2Config.Parse(document.RootElement, "config.json");
    }

    // Numbers compared by value (1e-06 and 1E-06, 0.0 and 0).
    private static JsonNode Normalized(JsonNode node) => JsonNode.Parse(JsonSerializer.Serialize(JsonSerializer.Deserialize<JsonElement>(node.ToJsonString()), new JsonSerializerOptions()))!;

    private static string[] Files(string directory) =>
        [.. Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(directory, f).Replace('\\', '/')).Order(StringComparer.Ordinal)];

    private static void AssertJson(string directory, string file, string expected) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), Json(directory, file)), $"{file}: {Json(directory, file).ToJsonString()}");

    private static JsonNode Json(string directory, string file) => JsonNode.Parse(File.ReadAllText(Path.Combine(directory, file)))!;

    private static void AssertTensors(string path, Dictionary<string, long[]> expected, string dataType)
    {
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), file.Tensors.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, shape) in expected)
        {
            Assert.Equal(shape, file.Tensors[name].Shape);
            Assert.Equal(dataType, file.Tensors[name].DataType);
        }
    }
}
