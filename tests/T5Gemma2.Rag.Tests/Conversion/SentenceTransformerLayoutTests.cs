using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntime;
using T5Gemma2.Rag.Encoder;
using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Encoder.Conversion;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Conversion;

/// <summary>
/// The two sentence-transformers layouts converted and run by ONNX Runtime against the double-precision reference:
/// EmbeddingGemma (a bidirectional Gemma 3: symmetric window, no eoi vector, no image input, Gemma 3's norm names) and
/// a standalone T5Gemma 2 encoder (bare tensor names); and the layouts' bad inputs, refused before anything is written.
/// </summary>
public sealed class SentenceTransformerLayoutTests(SharedTinySentenceTransformers layouts)
{
    private const double Tolerance = 1e-4;
    private const int Hidden = 16;

    [Fact]
    public void EmbeddingGemmaMatchesTheReferenceAcrossItsSymmetricWindow()
    {
        // The tiny window 4 becomes 3 on load: 2 keys each side, where T5Gemma 2's rule would give 1 and 2. Rows of
        // 1 to 13 tokens cross the block edges; right padding, left padding and a one-token row.
        var random = new Random(3);
        long[][] ids = [.. Enumerable.Range(0, 4).Select(_ => new long[13])];
        long[][] mask = [.. Enumerable.Range(0, 4).Select(_ => new long[13])];
        int[] lengths = [13, 7, 1, 10];
        for (int b = 0; b < ids.Length; b++)
        {
            int start = b == 3 ? 13 - lengths[b] : 0; // the last row is left-padded
            for (int s = start; s < start + lengths[b]; s++)
            {
                ids[b][s] = s == start ? 2 : random.Next(3, 262_000);
                mask[b][s] = 1;
            }
        }

        ids[0][5] = 256_000; // an ordinary token for Gemma 3: no eoi override

        double worst = AssertParity(layouts.EmbeddingGemmaCheckpoint, layouts.EmbeddingGemma.EncoderGraphPath, ids, mask);
        TestContext.Current.TestOutputHelper?.WriteLine($"EmbeddingGemma tiny: max abs difference {worst:E2}");
    }

    [Fact]
    public void EmbeddingGemmaGraphTakesNoImagesAndHasNoEoiVector()
    {
        using var session = new InferenceSession(layouts.EmbeddingGemma.EncoderGraphPath);

        Assert.Equal(["attention_mask", "input_ids"], session.InputMetadata.Keys.Order(StringComparer.Ordinal));
        using var checkpoint = SafeTensorsCheckpoint.Open(layouts.EmbeddingGemmaCheckpoint);
        Assert.DoesNotContain(checkpoint.Names, name => name.Contains("eoi", StringComparison.Ordinal));
        Assert.Contains("layers.0.input_layernorm.weight", checkpoint.Names);
    }

    [Fact]
    public void AStandaloneT5Gemma2EncoderWithBareTensorNamesMatchesTheReference()
    {
        long[][] ids = [[2, 651, 9259, 1902, 256_000, 107, 3721, 88, 17], [2, 11, 22, 33, 0, 0, 0, 0, 0]];
        long[][] mask = [[1, 1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0, 0, 0, 0]];
        using var checkpoint = SafeTensorsCheckpoint.Open(layouts.StandaloneEncoderCheckpoint);
        Assert.Contains("layers.0.pre_self_attn_layernorm.weight", checkpoint.Names);
        Assert.Contains("embed_tokens.eoi_embedding", checkpoint.Names);
        Assert.DoesNotContain(checkpoint.Names, name => name.StartsWith("model.", StringComparison.Ordinal) || name.StartsWith("decoder.", StringComparison.Ordinal));

        AssertParity(layouts.StandaloneEncoderCheckpoint, layouts.StandaloneEncoder.EncoderGraphPath, ids, mask);
    }

    [Fact]
    public void EmbeddingGemmaConvertsWithQuantizedWeightsAndStaysNearFp32()
    {
        using var temp = new TempDirectory();
        var int4 = CheckpointConverter.Convert(layouts.EmbeddingGemmaCheckpoint, temp.Combine("int4"), WeightFormat.Int4, cancellationToken: TestContext.Current.CancellationToken);
        long[][] ids = [[2, 651, 9259, 1902, 236_764, 107, 3721, 1]];
        long[][] mask = [[1, 1, 1, 1, 1, 1, 1, 1]];

        float[] full = Run(layouts.EmbeddingGemma.EncoderGraphPath, ids, mask);
        float[] quantized = Run(int4.EncoderGraphPath, ids, mask);

        Assert.All(quantized, value => Assert.True(float.IsFinite(value)));
        double cosine = System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(full, quantized);
        Assert.True(cosine > 0.9, $"int4 states' cosine to fp32 {cosine:F4}");
    }

    [Fact]
    public void ACausalGemma3IsRefusedByNameBeforeAnythingIsWritten()
    {
        using var temp = new TempDirectory();
        string checkpoint = ModelDirectoryCopy.AllFiles(layouts.EmbeddingGemmaCheckpoint, temp.Combine("hf"));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(checkpoint, "config.json")))!;
        config["use_bidirectional_attention"] = false;
        File.WriteAllText(Path.Combine(checkpoint, "config.json"), config.ToJsonString());
        string output = temp.Combine("onnx");

        var error = Assert.Throws<ModelFileException>(() => CheckpointConverter.Convert(checkpoint, output, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("field 'use_bidirectional_attention' is false; expected true", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void APickleOnlyDenseModuleIsNamedAndNothingIsWritten()
    {
        using var temp = new TempDirectory();
        string checkpoint = ModelDirectoryCopy.AllFiles(layouts.EmbeddingGemmaCheckpoint, temp.Combine("hf"));
        string dense = Path.Combine(checkpoint, "3_Dense");
        File.Move(Path.Combine(dense, "model.safetensors"), Path.Combine(dense, "pytorch_model.bin"));
        string output = temp.Combine("onnx");

        var error = Assert.Throws<ModelFileException>(() => CheckpointConverter.Convert(checkpoint, output, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal(Path.Combine(dense, "pytorch_model.bin"), error.FilePath);
        Assert.Contains("pickle", error.Problem, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void ADenseWhoseWeightsDisagreeWithItsConfigIsNamed()
    {
        using var temp = new TempDirectory();
        string checkpoint = ModelDirectoryCopy.AllFiles(layouts.EmbeddingGemmaCheckpoint, temp.Combine("hf"));
        string weights = Path.Combine(checkpoint, "2_Dense", "model.safetensors");
        File.Delete(weights);
        SafeTensorsWriter.Write(weights, [("linear.weight", [64, 15], () => new float[64 * 15])], "F32");

        var error = Assert.Throws<ModelFileException>(() => CheckpointConverter.Convert(checkpoint, temp.Combine("onnx"), cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal(weights, error.FilePath);
        Assert.Contains("tensor 'linear.weight' has shape [64, 15]", error.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void AConversionCarriesTheModulesAndPromptsAndPinsNoPooling()
    {
        string converted = layouts.EmbeddingGemma.OutputDirectory;
        foreach (string file in new[] { "modules.json", "config_sentence_transformers.json", "sentence_bert_config.json", "1_Pooling/config.json", "2_Dense/config.json", "2_Dense/model.safetensors", "3_Dense/model.safetensors" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(layouts.EmbeddingGemmaCheckpoint, file)), File.ReadAllBytes(Path.Combine(converted, file)));
        }

        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(converted, "t5rag.json")))!.AsObject();
        Assert.False(manifest.ContainsKey("pooling"), "the modules decide the pooling, not the manifest");
        Assert.Equal("gemma3_text", (string?)manifest["model_type"]);
    }

    private static double AssertParity(string checkpoint, string graph, long[][] ids, long[][] mask)
    {
        using var weights = SafeTensorsCheckpoint.Open(checkpoint);
        var expected = new ReferenceEncoder(checkpoint, weights).Run(ids, mask);
        float[] actual = Run(graph, ids, mask);
        int length = ids[0].Length;
        double worst = 0;
        for (int b = 0; b < ids.Length; b++)
        {
            for (int s = 0; s < length; s++)
            {
                for (int h = 0; h < Hidden && mask[b][s] == 1; h++)
                {
                    worst = Math.Max(worst, Math.Abs(expected[b][s][h] - actual[(b * length + s) * Hidden + h]));
                }
            }
        }

        Assert.True(worst <= Tolerance, $"max abs difference {worst:E2} > {Tolerance:E0}");
        return worst;
    }

    /// <summary>Runs an encoder graph on ids and mask, feeding no images where it takes them.</summary>
    private static float[] Run(string graph, long[][] ids, long[][] mask)
    {
        using var session = new InferenceSession(graph);
        int batch = ids.Length, length = ids[0].Length;
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids.SelectMany(r => r).ToArray(), [batch, length]);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask.SelectMany(r => r).ToArray(), [batch, length]);
        using var imageValue = OrtValue.CreateTensorValueFromMemory(Array.Empty<float>(), [0, Hidden]);
        bool images = session.InputMetadata.ContainsKey("image_features");
        using var runOptions = new RunOptions();
        using var outputs = images
            ? session.Run(runOptions, ["input_ids", "attention_mask", "image_features"], [idsValue, maskValue, imageValue], ["last_hidden_state"])
            : session.Run(runOptions, ["input_ids", "attention_mask"], [idsValue, maskValue], ["last_hidden_state"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }
}
