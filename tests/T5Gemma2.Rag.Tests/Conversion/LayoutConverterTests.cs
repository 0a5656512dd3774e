using System.Text.Json.Nodes;
using T5Gemma2.Rag.Encoder;
using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Encoder.Conversion;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Conversion;

/// <summary>
/// Conversion of the two sentence-transformers layouts: what the converted directory holds (the contract with the
/// module reader: the graph, config.json and the sentence-transformers files verbatim, a manifest without pooling),
/// the standalone encoder's other config and prefix spellings, and one named error per bad input with nothing written.
/// </summary>
public sealed class LayoutConverterTests(SharedTinySentenceTransformers layouts)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("embeddinggemma", "gemma3_text", new[] { "modules.json", "config_sentence_transformers.json", "sentence_bert_config.json", "1_Pooling/config.json", "2_Dense/config.json", "2_Dense/model.safetensors", "3_Dense/config.json", "3_Dense/model.safetensors" })]
    [InlineData("st-t5gemma2-encoder", "t5gemma2_encoder", new[] { "modules.json", "config_sentence_transformers.json", "sentence_bert_config.json", "1_Pooling/config.json", "2_Normalize/config.json" })]
    public void ConvertedDirectoryCarriesTheSentenceTransformersFilesVerbatim(string layout, string modelType, string[] moduleFiles)
    {
        string source = layout == "embeddinggemma" ? layouts.EmbeddingGemmaCheckpoint : layouts.StandaloneEncoderCheckpoint;
        string converted = (layout == "embeddinggemma" ? layouts.EmbeddingGemma : layouts.StandaloneEncoder).OutputDirectory;

        foreach (string file in moduleFiles.Concat(["config.json", "tokenizer.json", "tokenizer_config.json"]))
        {
            Assert.True(File.Exists(Path.Combine(converted, file)), $"{file} was not carried over");
            Assert.Equal(File.ReadAllBytes(Path.Combine(source, file)), File.ReadAllBytes(Path.Combine(converted, file)));
        }

        Assert.True(File.Exists(Path.Combine(converted, "onnx", "encoder_model.onnx")));
        Assert.False(File.Exists(Path.Combine(converted, "model.safetensors")), "the backbone's weights are in the graph, not copied");
        Assert.False(File.Exists(Path.Combine(converted, "onnx", "decoder_model_merged.onnx")));
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(converted, "t5rag.json")))!.AsObject();
        Assert.Equal(modelType, (string?)manifest["model_type"]);
        // The modules decide pooling and normalisation, not the manifest.
        Assert.False(manifest.ContainsKey("pooling"));
        Assert.False(manifest.ContainsKey("normalize"));
    }

    [Fact]
    public void StandaloneEncoderWithTextFieldsAtTheRootConvertsAlike()
    {
        // transformers' T5Gemma2TextConfig saved on its own: model_type t5gemma2_text, no text_config section.
        using var temp = new TempDirectory();
        string checkpoint = ModelDirectoryCopy.AllFiles(layouts.StandaloneEncoderCheckpoint, temp.Combine("hf"));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(checkpoint, "config.json")))!.AsObject();
        var text = config["text_config"]!.DeepClone().AsObject();
        text["model_type"] = "t5gemma2_text";
        File.WriteAllText(Path.Combine(checkpoint, "config.json"), text.ToJsonString());

        var result = CheckpointConverter.Convert(checkpoint, temp.Combine("onnx"), cancellationToken: Token);

        long[][] ids = [[2, 651, 9259, 1902, 236764, 256000, 107, 3721], [2, 11, 22, 0, 0, 0, 0, 0]];
        long[][] mask = [[1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0, 0, 0]];
        Assert.Equal(EncoderParityTests.RunGraph(layouts.StandaloneEncoder.EncoderGraphPath, ids, mask, null), EncoderParityTests.RunGraph(result.EncoderGraphPath, ids, mask, null));
    }

    [Theory]
    [InlineData("embeddinggemma")]
    [InlineData("st-t5gemma2-encoder")]
    public void TensorsUnderAModelPrefixConvertAlike(string layout)
    {
        using var temp = new TempDirectory();
        string source = layout == "embeddinggemma" ? layouts.EmbeddingGemmaCheckpoint : layouts.StandaloneEncoderCheckpoint;
        string checkpoint = ModelDirectoryCopy.AllFiles(source, temp.Combine("hf"));
        RewriteTensors(source, checkpoint, tensors => tensors.Select(t => ("model." + t.Name, t.Shape, t.Values)));

        var result = CheckpointConverter.Convert(checkpoint, temp.Combine("onnx"), cancellationToken: Token);

        long[][] ids = [[2, 651, 9259, 1902, 236764, 256000, 107, 1]];
        long[][] mask = [[1, 1, 1, 1, 1, 1, 1, 1]];
        string graph = (layout == "embeddinggemma" ? layouts.EmbeddingGemma : layouts.StandaloneEncoder).EncoderGraphPath;
        Assert.Equal(EncoderParityTests.RunGraph(graph, ids, mask, null), EncoderParityTests.RunGraph(result.EncoderGraphPath, ids, mask, null));
    }

    [Theory]
    [InlineData("embeddinggemma", "layers.1.input_layernorm.weight")]
    [InlineData("embeddinggemma", "layers.3.post_attention_layernorm.weight")]
    [InlineData("st-t5gemma2-encoder", "layers.0.self_attn.k_norm.weight")]
    [InlineData("st-t5gemma2-encoder", "embed_tokens.eoi_embedding")]
    public void MissingTensorIsNamedAndNothingIsWritten(string layout, string tensor)
    {
        using var temp = new TempDirectory();
        string source = layout == "embeddinggemma" ? layouts.EmbeddingGemmaCheckpoint : layouts.StandaloneEncoderCheckpoint;
        string checkpoint = ModelDirectoryCopy.AllFiles(source, temp.Combine("hf"));
        RewriteTensors(source, checkpoint, tensors => tensors.Where(t => t.Name != tensor));

        var error = this.AssertRefused(temp, checkpoint);

        Assert.Contains($"tensor '{tensor}' is missing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EmbeddingGemmaDoesNotNeedAnEoiVectorButATensorOfTheWrongShapeIsNamed()
    {
        using var temp = new TempDirectory();
        string checkpoint = ModelDirectoryCopy.AllFiles(layouts.EmbeddingGemmaCheckpoint, temp.Combine("hf"));
        EditConfig(checkpoint, config => config["intermediate_size"] = 40);

        var error = this.AssertRefused(temp, checkpoint);

        Assert.Contains("tensor 'layers.0.mlp.gate_proj.weight' has shape [24, 16]; config.json implies [40, 16]", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("use_bidirectional_attention", "false", "field 'use_bidirectional_attention' is false; expected true")]
    [InlineData("use_bidirectional_attention", null, "field 'use_bidirectional_attention' is absent; expected true")]
    [InlineData("attention_bias", "true", "field 'attention_bias' is true; expected false")]
    [InlineData("attn_logit_softcapping", "50.0", "field 'attn_logit_softcapping' is 50; expected null")]
    [InlineData("hidden_activation", "\"silu\"", "field 'hidden_activation' is silu; expected")]
    public void EmbeddingGemmaConfigFieldsThatAreNotAnEncoderAreRefused(string field, string? json, string expected)
    {
        using var temp = new TempDirectory();
        string checkpoint = ModelDirectoryCopy.AllFiles(layouts.EmbeddingGemmaCheckpoint, temp.Combine("hf"));
        EditConfig(checkpoint, config =>
        {
            if (json is null)
            {
                config.Remove(field);
            }
            else
            {
                config[field] = JsonNode.Parse(json);
            }
        });

        var error = this.AssertRefused(temp, checkpoint);

        Assert.Equal(Path.Combine(checkpoint, "config.json"), error.FilePath);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ModuleFolderThatModulesJsonNamesButIsMissingIsNamed()
    {
        using var temp = new TempDirectory();
        string checkpoint = ModelDirectoryCopy.AllFiles(layouts.EmbeddingGemmaCheckpoint, temp.Combine("hf"));
        Directory.Delete(Path.Combine(checkpoint, "3_Dense"), recursive: true);

        var error = this.AssertRefused(temp, checkpoint);

        Assert.Contains("3_Dense", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PickleOnlyDenseWeightsAreNamed()
    {
        using var temp = new TempDirectory();
        string checkpoint = ModelDirectoryCopy.AllFiles(layouts.EmbeddingGemmaCheckpoint, temp.Combine("hf"));
        File.Move(Path.Combine(checkpoint, "2_Dense", "model.safetensors"), Path.Combine(checkpoint, "2_Dense", "pytorch_model.bin"));

        var error = this.AssertRefused(temp, checkpoint);

        Assert.Equal(Path.Combine(checkpoint, "2_Dense", "pytorch_model.bin"), error.FilePath);
        Assert.Contains("pickle", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DenseWeightOfAnotherShapeIsNamed()
    {
        using var temp = new TempDirectory();
        string checkpoint = ModelDirectoryCopy.AllFiles(layouts.EmbeddingGemmaCheckpoint, temp.Combine("hf"));
        SafeTensorsWriter.Write(Path.Combine(checkpoint, "2_Dense", "model.safetensors"), [("linear.weight", [64, 8], () => new float[64 * 8])], "F32");

        var error = this.AssertRefused(temp, checkpoint);

        Assert.Equal(Path.Combine(checkpoint, "2_Dense", "model.safetensors"), error.FilePath);
        Assert.Contains("'linear.weight' has shape [64, 8]", error.Message, StringComparison.Ordinal);
    }

    private ModelFileException AssertRefused(TempDirectory temp, string checkpoint)
    {
        string output = temp.Combine("out");
        var error = Assert.Throws<ModelFileException>(() => CheckpointConverter.Convert(checkpoint, output, cancellationToken: Token));
        Assert.DoesNotContain('\n', error.Message);
        Assert.Equal(FailureKind.InputFile, error.Kind);
        Assert.False(Directory.Exists(output), "the output directory was created");
        Assert.Empty(Directory.EnumerateDirectories(temp.Path, "*.partial-*"));
        return error;
    }

    private static void EditConfig(string checkpoint, Action<JsonObject> edit)
    {
        string path = Path.Combine(checkpoint, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(config);
        File.WriteAllText(path, config.ToJsonString());
    }

    private static void RewriteTensors(string source, string checkpoint, Func<IEnumerable<(string Name, long[] Shape, Func<float[]> Values)>, IEnumerable<(string Name, long[] Shape, Func<float[]> Values)>> change)
    {
        using var file = SafeTensorsFile.Open(Path.Combine(source, "model.safetensors"));
        var tensors = file.Tensors.Values.Select(info =>
        {
            var values = new float[info.ElementCount];
            file.ReadFloat32(info, values);
            return (info.Name, info.Shape, (Func<float[]>)(() => values));
        }).ToList();
        SafeTensorsWriter.Write(Path.Combine(checkpoint, "model.safetensors"), [.. change(tensors)], "BF16");
    }
}
