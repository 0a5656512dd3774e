using System.Text.Json;
using System.Text.Json.Nodes;

namespace T5Gemma2.Rag.Encoder.Checkpoints;

/// <summary>
/// The sentence-transformers files of the random layouts, with the keys and module type names the real repositories
/// carry: EmbeddingGemma was saved by sentence-transformers 5.x before 5.4 (<c>sentence_transformers.models.*</c>,
/// the legacy Pooling flags, <c>max_seq_length</c>); a standalone T5Gemma 2 encoder by 5.4 or later (the new module
/// paths, <c>pooling_mode</c>, the length in tokenizer_config.json).
/// </summary>
internal static class SentenceTransformersFiles
{
    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true };

    /// <summary>Writes the layout's module files into <paramref name="directory"/>; a full T5Gemma 2 checkpoint has none.</summary>
    /// <param name="weights">Random values for a Dense module's tensor of the given name and shape.</param>
    public static void Write(RandomLayout layout, T5Gemma2Preset preset, string directory, Func<string, long[], float[]> weights)
    {
        int hidden = preset.HiddenSize;
        switch (layout)
        {
            case RandomLayout.SentenceTransformersT5Gemma2Encoder:
                Save(directory, "modules.json", new JsonArray(
                    Module(0, "0", "", "sentence_transformers.base.modules.transformer.Transformer"),
                    Module(1, "1", "1_Pooling", "sentence_transformers.sentence_transformer.modules.pooling.Pooling"),
                    Module(2, "2", "2_Normalize", "sentence_transformers.base.modules.normalize.Normalize")));
                Save(directory, "sentence_bert_config.json", new JsonObject
                {
                    ["transformer_task"] = "feature-extraction",
                    ["modality_config"] = new JsonObject { ["text"] = new JsonObject { ["method"] = "forward", ["method_output_name"] = "last_hidden_state" } },
                    ["module_output_name"] = "token_embeddings",
                });
                Save(directory, "1_Pooling/config.json", new JsonObject { ["embedding_dimension"] = hidden, ["pooling_mode"] = "mean", ["include_prompt"] = true });
                Save(directory, "2_Normalize/config.json", new JsonObject { ["module_input_name"] = "sentence_embedding", ["module_output_name"] = "sentence_embedding" });
                Save(directory, "config_sentence_transformers.json", ModelConfig(new JsonObject { ["query"] = "query: ", ["document"] = "document: " }, "6.0.1"));
                // The T5Gemma 2 processor is Gemma3Processor: sentence-transformers loads it, so the repository ships its files.
                Save(directory, "processor_config.json", new JsonObject { ["image_seq_length"] = 256, ["processor_class"] = "Gemma3Processor" });
                Save(directory, "preprocessor_config.json", new JsonObject
                {
                    ["image_processor_type"] = "Gemma3ImageProcessor",
                    ["processor_class"] = "Gemma3Processor",
                    ["size"] = new JsonObject { ["height"] = 896, ["width"] = 896 },
                    ["image_mean"] = new JsonArray(0.5, 0.5, 0.5),
                    ["image_std"] = new JsonArray(0.5, 0.5, 0.5),
                    ["rescale_factor"] = 1.0 / 255,
                    ["do_normalize"] = true,
                    ["do_rescale"] = true,
                    ["do_resize"] = true,
                    ["resample"] = 2,
                });
                break;
            case RandomLayout.EmbeddingGemma:
                int wide = 4 * hidden;
                Save(directory, "modules.json", new JsonArray(
                    Module(0, "0", "", "sentence_transformers.models.Transformer"),
                    Module(1, "1", "1_Pooling", "sentence_transformers.models.Pooling"),
                    Module(2, "2", "2_Dense", "sentence_transformers.models.Dense"),
                    Module(3, "3", "3_Dense", "sentence_transformers.models.Dense"),
                    Module(4, "4", "4_Normalize", "sentence_transformers.models.Normalize")));
                Save(directory, "sentence_bert_config.json", new JsonObject { ["max_seq_length"] = preset.MaxPositionEmbeddings, ["do_lower_case"] = false });
                Save(directory, "1_Pooling/config.json", new JsonObject
                {
                    ["word_embedding_dimension"] = hidden,
                    ["pooling_mode_cls_token"] = false,
                    ["pooling_mode_mean_tokens"] = true,
                    ["pooling_mode_max_tokens"] = false,
                    ["pooling_mode_mean_sqrt_len_tokens"] = false,
                    ["pooling_mode_weightedmean_tokens"] = false,
                    ["pooling_mode_lasttoken"] = false,
                    ["include_prompt"] = true,
                });
                WriteDense(directory, "2_Dense", hidden, wide, weights);
                WriteDense(directory, "3_Dense", wide, hidden, weights);
                // No 4_Normalize folder: Normalize has nothing to save, and git keeps no empty folder.
                Save(directory, "config_sentence_transformers.json", ModelConfig(EmbeddingGemmaPrompts(), "5.1.0"));
                break;
        }
    }

    /// <summary>EmbeddingGemma's tokenizer appends &lt;eos&gt;: its tokenizer_config.json says so (transformers 5 lets the flags rebuild the template).</summary>
    public static void AdjustTokenizerConfig(RandomLayout layout, T5Gemma2Preset preset, string directory)
    {
        if (layout != RandomLayout.EmbeddingGemma)
        {
            return;
        }

        string path = Path.Combine(directory, "tokenizer_config.json");
        var config = File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path))!.AsObject() : [];
        config["add_bos_token"] = true;
        config["add_eos_token"] = true;
        config["bos_token"] = "<bos>";
        config["eos_token"] = "<eos>";
        config["model_max_length"] = preset.MaxPositionEmbeddings;
        config.Remove("chat_template");
        config.Remove("processor_class");
        File.WriteAllText(path, config.ToJsonString(s_indented));
    }

    private static JsonObject EmbeddingGemmaPrompts()
    {
        const string Search = "task: search result | query: ", Document = "title: none | text: ", Classification = "task: classification | query: ", Similarity = "task: sentence similarity | query: ";
        return new JsonObject
        {
            ["query"] = Search,
            ["document"] = Document,
            ["BitextMining"] = Search,
            ["Clustering"] = "task: clustering | query: ",
            ["Classification"] = Classification,
            ["InstructionRetrieval"] = "task: code retrieval | query: ",
            ["MultilabelClassification"] = Classification,
            ["PairClassification"] = Similarity,
            ["Reranking"] = Search,
            ["Retrieval"] = Search,
            ["Retrieval-query"] = Search,
            ["Retrieval-document"] = Document,
            ["STS"] = Similarity,
            ["Summarization"] = "task: summarization | query: ",
        };
    }

    private static JsonObject ModelConfig(JsonObject prompts, string version) => new()
    {
        ["model_type"] = "SentenceTransformer",
        ["__version__"] = new JsonObject { ["sentence_transformers"] = version, ["transformers"] = "5.17.0", ["pytorch"] = "2.9.0" },
        ["prompts"] = prompts,
        ["default_prompt_name"] = null,
        ["similarity_fn_name"] = "cosine",
    };

    private static JsonObject Module(int index, string name, string path, string type) => new() { ["idx"] = index, ["name"] = name, ["path"] = path, ["type"] = type };

    private static void WriteDense(string directory, string folder, int inFeatures, int outFeatures, Func<string, long[], float[]> weights)
    {
        Save(directory, $"{folder}/config.json", new JsonObject
        {
            ["in_features"] = inFeatures,
            ["out_features"] = outFeatures,
            ["bias"] = false,
            ["activation_function"] = "torch.nn.modules.linear.Identity",
        });
        long[] shape = [outFeatures, inFeatures];
        SafeTensorsWriter.Write(Path.Combine(directory, folder, "model.safetensors"), [("linear.weight", shape, () => weights($"{folder}/linear.weight", shape))], "F32");
    }

    private static void Save(string directory, string relative, JsonNode content)
    {
        string path = Path.Combine(directory, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content.ToJsonString(s_indented));
    }
}
