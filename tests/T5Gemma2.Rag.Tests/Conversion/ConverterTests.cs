using System.Numerics.Tensors;
using System.Text.Json.Nodes;
using T5Gemma2.Rag.Encoder;
using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Encoder.Conversion;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Conversion;

/// <summary>The converter's output as a model directory, its quantized forms, and what it does with broken checkpoints.</summary>
public sealed class ConverterTests(SharedTinyT5Gemma2 tiny)
{
    private static readonly string[] s_texts =
    [
        "The encoder's bidirectional outputs, pooled, are the embeddings.",
        "Kurz.",
        "東京タワーの高さは333メートルです。",
        "def f(x):\n    return x * 2  # <end_of_image> appears literally here",
    ];

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ConvertedDirectoryEmbedsAsTheReferenceEncoderPooled()
    {
        using var generator = OnnxEmbeddingGenerator.Create(tiny.ConvertedDirectory);
        var tokenizer = (Encoder.Tokenization.GemmaTokenizer)generator.Tokenizer;
        using var weights = SafeTensorsCheckpoint.Open(tiny.CheckpointDirectory);
        var reference = new ReferenceEncoder(tiny.CheckpointDirectory, weights);

        var embeddings = await generator.GenerateAsync(s_texts, cancellationToken: Token);

        Assert.Equal(ModelKind.T5Gemma2, generator.Model.Kind);
        Assert.Equal(16, generator.Dimensions);
        for (int i = 0; i < s_texts.Length; i++)
        {
            // Passages are untrusted text: the literal "<end_of_image>" in text 3 is pieces of text, as Hugging Face's
            // tokenizer encodes it with split_special_tokens=True, not the image marker.
            long[] ids = [.. tokenizer.EncodeToIdsAsPlainText(s_texts[i], addBeginningOfSentence: true).Select(id => (long)id)];
            var states = reference.Run([ids], [[.. ids.Select(_ => 1L)]])[0];
            var mean = new double[16];
            foreach (var state in states)
            {
                for (int h = 0; h < 16; h++)
                {
                    mean[h] += state[h] / states.Length;
                }
            }

            double norm = Math.Sqrt(mean.Sum(v => v * v));
            double worst = mean.Select((v, h) => Math.Abs(v / norm - embeddings[i].Vector.Span[h])).Max();
            Assert.True(worst < 1e-4, $"text {i}: max abs difference {worst:E2}");
        }
    }

    [Theory]
    [InlineData(WeightFormat.Int8, 0.99)]
    [InlineData(WeightFormat.Int4, 0.99)] // min/max int4 with every layer in 4 bits reached 0.9798 here
    public async Task QuantizedWeightsStayCloseToFp32(WeightFormat format, double minimumMeanCosine)
    {
        using var temp = new TempDirectory();
        var result = CheckpointConverter.Convert(tiny.CheckpointDirectory, temp.Combine("q"), format, cancellationToken: TestContext.Current.CancellationToken);
        using var quantized = OnnxEmbeddingGenerator.Create(result.OutputDirectory);
        using var full = OnnxEmbeddingGenerator.Create(tiny.ConvertedDirectory);

        var a = await full.GenerateAsync(s_texts, cancellationToken: Token);
        var b = await quantized.GenerateAsync(s_texts, cancellationToken: Token);

        double mean = Enumerable.Range(0, s_texts.Length).Average(i => TensorPrimitives.CosineSimilarity(a[i].Vector.Span, b[i].Vector.Span));
        Assert.True(mean >= minimumMeanCosine, $"{format}: mean cosine {mean:F4}");
    }

    [Fact]
    public async Task WeightsInExternalDataGiveTheSameEmbeddings()
    {
        // The 4b preset's 2.7 GB embedding cannot sit inside protobuf; force the external-data layout on the tiny one.
        using var temp = new TempDirectory();
        var result = CheckpointConverter.Convert(tiny.CheckpointDirectory, temp.Combine("external"), WeightFormat.Fp32, progress: null, externalDataThreshold: 0, cancellationToken: TestContext.Current.CancellationToken);
        using var external = OnnxEmbeddingGenerator.Create(result.OutputDirectory);
        using var inline = OnnxEmbeddingGenerator.Create(tiny.ConvertedDirectory);

        var a = await inline.GenerateAsync(s_texts, cancellationToken: Token);
        var b = await external.GenerateAsync(s_texts, cancellationToken: Token);

        Assert.True(File.Exists(result.EncoderGraphPath + "_data"));
        Assert.True(new FileInfo(result.EncoderGraphPath).Length < 1_000_000, "weights left the graph file");
        for (int i = 0; i < s_texts.Length; i++)
        {
            Assert.Equal(a[i].Vector.ToArray(), b[i].Vector.ToArray());
        }
    }

    [Fact]
    public async Task ShardedCheckpointsWithNewerTensorNamesAndMixedDtypesConvertAlike()
    {
        // Two shards listed by model.safetensors.index.json, one F32 and one BF16, under transformers >= 5.1's
        // model.encoder.text_model.* names: the same weights, so the same embeddings.
        using var temp = new TempDirectory();
        string checkpoint = temp.Combine("sharded");
        Directory.CreateDirectory(checkpoint);
        foreach (string file in new[] { "config.json", "tokenizer.json", "tokenizer_config.json" })
        {
            File.Copy(Path.Combine(tiny.CheckpointDirectory, file), Path.Combine(checkpoint, file));
        }

        using (var source = SafeTensorsCheckpoint.Open(tiny.CheckpointDirectory))
        {
            var tensors = source.Names.Order(StringComparer.Ordinal).Select(name =>
            {
                source.TryGet(name, out var info);
                float[] values = source.ReadFloat32(info);
                string renamed = name.StartsWith("model.encoder.", StringComparison.Ordinal) ? "model.encoder.text_model." + name["model.encoder.".Length..] : name;
                return (renamed, info.Shape, (Func<float[]>)(() => values));
            }).ToList();
            int half = tensors.Count / 2;
            SafeTensorsWriter.Write(Path.Combine(checkpoint, "model-00001-of-00002.safetensors"), tensors[..half], "F32");
            SafeTensorsWriter.Write(Path.Combine(checkpoint, "model-00002-of-00002.safetensors"), tensors[half..], "BF16");
            var map = new JsonObject();
            for (int i = 0; i < tensors.Count; i++)
            {
                map[tensors[i].renamed] = i < half ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
            }

            File.WriteAllText(Path.Combine(checkpoint, "model.safetensors.index.json"), new JsonObject { ["metadata"] = new JsonObject(), ["weight_map"] = map }.ToJsonString());
        }

        var result = CheckpointConverter.Convert(checkpoint, temp.Combine("onnx"), cancellationToken: TestContext.Current.CancellationToken);
        using var sharded = OnnxEmbeddingGenerator.Create(result.OutputDirectory);
        using var original = OnnxEmbeddingGenerator.Create(tiny.ConvertedDirectory);

        var a = await original.GenerateAsync(s_texts, cancellationToken: Token);
        var b = await sharded.GenerateAsync(s_texts, cancellationToken: Token);

        for (int i = 0; i < s_texts.Length; i++)
        {
            Assert.Equal(a[i].Vector.ToArray(), b[i].Vector.ToArray());
        }
    }

    [Fact]
    public void MissingTensorIsNamedAndNothingIsWritten()
    {
        using var temp = new TempDirectory();
        string checkpoint = CopyCheckpoint(temp, without: "model.encoder.layers.2.mlp.up_proj.weight");
        string output = temp.Combine("out");

        var error = Assert.Throws<ModelFileException>(() => CheckpointConverter.Convert(checkpoint, output, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("model.encoder.layers.2.mlp.up_proj.weight", error.Message, StringComparison.Ordinal);
        Assert.Contains("missing", error.Message, StringComparison.Ordinal);
        AssertNothingWritten(temp, output);
    }

    [Fact]
    public void ShapeThatContradictsTheConfigIsNamed()
    {
        using var temp = new TempDirectory();
        string checkpoint = CopyCheckpoint(temp, without: null);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(checkpoint, "config.json")))!;
        config["encoder"]!["text_config"]!["intermediate_size"] = 40;
        File.WriteAllText(Path.Combine(checkpoint, "config.json"), config.ToJsonString());
        string output = temp.Combine("out");

        var error = Assert.Throws<ModelFileException>(() => CheckpointConverter.Convert(checkpoint, output, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("mlp.gate_proj.weight' has shape [24, 16]; config.json implies [40, 16]", error.Message, StringComparison.Ordinal);
        AssertNothingWritten(temp, output);
    }

    [Fact]
    public void UnknownModelTypeIsNamed()
    {
        using var temp = new TempDirectory();
        string checkpoint = CopyCheckpoint(temp, without: null);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(checkpoint, "config.json")))!;
        config["model_type"] = "gemma3";
        File.WriteAllText(Path.Combine(checkpoint, "config.json"), config.ToJsonString());

        var error = Assert.Throws<ModelFileException>(() => CheckpointConverter.Convert(checkpoint, temp.Combine("out"), cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("\"gemma3\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TruncatedSafetensorsIsNamedByTensor()
    {
        using var temp = new TempDirectory();
        string checkpoint = CopyCheckpoint(temp, without: null);
        string file = Path.Combine(checkpoint, "model.safetensors");
        using (var stream = new FileStream(file, FileMode.Open))
        {
            stream.SetLength(stream.Length / 2);
        }

        var error = Assert.Throws<ModelFileException>(() => CheckpointConverter.Convert(checkpoint, temp.Combine("out"), cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal(file, error.FilePath);
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NonEmptyOutputDirectoryIsRefused()
    {
        using var temp = new TempDirectory();
        string output = temp.Write("out/keep.txt", "mine");

        var error = Assert.Throws<ModelFileException>(() => CheckpointConverter.Convert(tiny.CheckpointDirectory, Path.GetDirectoryName(output)!, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("not empty", error.Message, StringComparison.Ordinal);
        Assert.Equal("mine", File.ReadAllText(output));
    }

    [Fact]
    public void EncoderAndDecoderShareOneEmbeddingFile()
    {
        string shared = Path.Combine(tiny.ConvertedDirectory, "onnx", EncoderGraphNames.SharedEmbeddingFile);
        long table = 4L * T5Gemma2Preset.VocabSize * T5Gemma2Preset.Tiny.HiddenSize;

        Assert.Equal(table, new FileInfo(shared).Length);
        Assert.True(new FileInfo(tiny.Conversion.EncoderGraphPath).Length < table / 2, "the encoder graph holds its own copy of the embedding");
        Assert.True(new FileInfo(Path.Combine(tiny.ConvertedDirectory, "onnx", "decoder_model_merged.onnx")).Length < table / 2, "the decoder graph holds its own copy of the embedding");
    }

    [Fact]
    public void RandomCheckpointsAreDeterministic()
    {
        using var temp = new TempDirectory();
        RandomCheckpoint.Create(T5Gemma2Preset.Tiny, SharedTinyT5Gemma2.Seed, temp.Combine("again"), tokenizerDirectory: null, cancellationToken: TestContext.Current.CancellationToken);
        RandomCheckpoint.Create(T5Gemma2Preset.Tiny, SharedTinyT5Gemma2.Seed + 1, temp.Combine("other"), tokenizerDirectory: null, cancellationToken: TestContext.Current.CancellationToken);

        byte[] original = File.ReadAllBytes(Path.Combine(tiny.CheckpointDirectory, "model.safetensors"));
        Assert.Equal(original, File.ReadAllBytes(temp.Combine("again", "model.safetensors")));
        Assert.NotEqual(original, File.ReadAllBytes(temp.Combine("other", "model.safetensors")));
    }

    [Fact]
    public void TinyPresetExercisesEveryPath()
    {
        var config = T5Gemma2Config.Read(Path.Combine(tiny.CheckpointDirectory, "config.json")).Encoder;

        Assert.True(config.LayerTypes.Count(t => t == AttentionLayerType.Sliding) >= 2);
        Assert.Contains(AttentionLayerType.Full, config.LayerTypes);
        Assert.NotEqual(config.NumAttentionHeads, config.NumKeyValueHeads);
        Assert.NotEqual(config.HeadDim, config.QueryPreAttentionScalar);
        Assert.True(config.SlidingWindow < 10);
        Assert.Equal(8, config.FullRope.LinearFactor);
    }

    private string CopyCheckpoint(TempDirectory temp, string? without)
    {
        string target = temp.Combine("hf");
        ModelDirectoryCopy.TopLevelFiles(tiny.CheckpointDirectory, target);

        if (without is not null)
        {
            using var source = SafeTensorsCheckpoint.Open(tiny.CheckpointDirectory);
            var kept = source.Names.Where(n => n != without).Select(n =>
            {
                source.TryGet(n, out var info);
                float[] values = source.ReadFloat32(info);
                return (n, info.Shape, (Func<float[]>)(() => values));
            }).ToList();
            SafeTensorsWriter.Write(Path.Combine(target, "model.safetensors"), kept, "BF16");
        }

        return target;
    }

    private static void AssertNothingWritten(TempDirectory temp, string output)
    {
        Assert.False(Directory.Exists(output), "the output directory was created");
        Assert.Empty(Directory.EnumerateDirectories(temp.Path, "*.partial-*"));
    }
}
