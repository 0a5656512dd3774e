using System.Text.Json.Nodes;
using T5Gemma2.Rag.Encoder;
using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Encoder.Conversion;
using T5Gemma2.Rag.Encoder.Images;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Vision;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Conversion;

/// <summary>
/// The converted vision graph (SigLIP tower and projector), run by ONNX Runtime, against the double-precision
/// reference on the tiny preset; the encoder with those features at its image soft tokens; quantized towers; and a
/// checkpoint without a tower, or with a broken one.
/// </summary>
public sealed class VisionParityTests(SharedTinyT5Gemma2 tiny)
{
    private const double Tolerance = 1e-4;

    [Fact]
    public void ImageFeaturesMatchTheReference()
    {
        var model = ModelDirectory.Open(tiny.ConvertedDirectory);
        var vision = model.RequireVision();
        var images = RandomImages(vision.ImageSize, count: 3, seed: 1);
        using var encoder = VisionEncoder.Open(model);

        float[] actual = encoder.Encode(PixelValues.Concatenate(images), images.Length, TestContext.Current.CancellationToken);

        using var weights = SafeTensorsCheckpoint.Open(tiny.CheckpointDirectory);
        var reference = new ReferenceVision(tiny.CheckpointDirectory, weights);
        Assert.Equal(images.Length * vision.TokensPerImage * vision.TextHiddenSize, actual.Length);
        double worst = 0, scale = 0;
        for (int k = 0; k < images.Length; k++)
        {
            var expected = reference.Features(images[k].Values);
            for (int t = 0; t < vision.TokensPerImage; t++)
            {
                for (int h = 0; h < vision.TextHiddenSize; h++)
                {
                    double value = expected[t][h];
                    worst = Math.Max(worst, Math.Abs(value - actual[((k * vision.TokensPerImage) + t) * vision.TextHiddenSize + h]));
                    scale = Math.Max(scale, Math.Abs(value));
                }
            }
        }

        Assert.True(scale > 0.1, $"the reference features are near zero (max |x| {scale:E2}): the check would be vacuous");
        Assert.True(worst <= Tolerance, $"image features: max abs difference {worst:E2} > {Tolerance:E0}");
        TestContext.Current.TestOutputHelper?.WriteLine($"image features: max abs difference to the reference {worst:E2} (max |x| {scale:F2})");
    }

    [Fact]
    public void DifferentImagesGiveDifferentFeaturesAndOneImageIsTheSameAloneOrInABatch()
    {
        var model = ModelDirectory.Open(tiny.ConvertedDirectory);
        var images = RandomImages(model.RequireVision().ImageSize, count: 2, seed: 2);
        using var encoder = VisionEncoder.Open(model);
        float[] batch = encoder.Encode(PixelValues.Concatenate(images), 2, TestContext.Current.CancellationToken);
        float[] alone = encoder.Encode(images[1].Values, 1, TestContext.Current.CancellationToken);

        int half = batch.Length / 2;
        Assert.True(batch.AsSpan(0, half).SequenceEqual(batch.AsSpan(half)) is false);
        double worst = alone.Select((v, i) => Math.Abs(v - batch[half + i])).Max();
        Assert.True(worst < 1e-5, $"image 1 alone differs from image 1 in a batch by {worst:E2}");
    }

    [Fact]
    public void EncoderStatesWithImagesMatchTheReference()
    {
        var model = ModelDirectory.Open(tiny.ConvertedDirectory);
        var vision = model.RequireVision();
        var images = RandomImages(vision.ImageSize, count: 2, seed: 3);
        using var encoder = VisionEncoder.Open(model);
        float[] features = encoder.Encode(PixelValues.Concatenate(images), 2, TestContext.Current.CancellationToken);

        // The processor's layout, two images among text: bos, "\n\n", boi, soft tokens, eoi, "\n\n", then text.
        long[] Block() => [108, vision.BeginOfImageTokenId, .. Enumerable.Repeat((long)vision.ImageTokenId, vision.TokensPerImage), vision.EndOfImageTokenId, 108];
        long[] ids = [2, .. Block(), 651, 9259, 1902, .. Block(), 3721, 88, 1];
        long[][] mask = [[.. ids.Select(_ => 1L)]];

        // The reference's features come from the reference tower, so the whole chain is checked, not the scatter alone.
        using var weights = SafeTensorsCheckpoint.Open(tiny.CheckpointDirectory);
        var reference = new ReferenceVision(tiny.CheckpointDirectory, weights);
        float[][] referenceFeatures = [.. images.SelectMany(i => reference.Features(i.Values)).Select(row => row.Select(v => (float)v).ToArray())];
        var expected = new ReferenceEncoder(tiny.CheckpointDirectory, weights).Run([ids], mask, referenceFeatures)[0];

        float[][] graphFeatures = [.. features.Chunk(vision.TextHiddenSize)];
        float[] actual = EncoderParityTests.RunGraph(tiny.Conversion.EncoderGraphPath, [ids], mask, graphFeatures);
        double worst = 0;
        for (int s = 0; s < ids.Length; s++)
        {
            for (int h = 0; h < vision.TextHiddenSize; h++)
            {
                worst = Math.Max(worst, Math.Abs(expected[s][h] - actual[s * vision.TextHiddenSize + h]));
            }
        }

        Assert.True(worst <= Tolerance, $"encoder states with images: max abs difference {worst:E2} > {Tolerance:E0}");
        TestContext.Current.TestOutputHelper?.WriteLine($"encoder states with two images: max abs difference to the reference {worst:E2}");
    }

    [Theory]
    [InlineData(WeightFormat.Int8, 0.999, 0.995)]
    [InlineData(WeightFormat.Int4, 0.98, 0.95)] // measured mean 0.986, lowest 0.964: a 24-wide tiny tower has one quantization block per row, so it is coarser than a released one
    public void QuantizedTowersStayCloseToFp32(WeightFormat format, double minimumMeanCosine, double minimumCosine)
    {
        using var temp = new TempDirectory();
        var quantized = ModelDirectory.Open(CheckpointConverter.Convert(tiny.CheckpointDirectory, temp.Combine("q"), format, cancellationToken: TestContext.Current.CancellationToken).OutputDirectory);
        var model = ModelDirectory.Open(tiny.ConvertedDirectory);
        var images = RandomImages(model.RequireVision().ImageSize, count: 4, seed: 4);
        using var full = VisionEncoder.Open(model);
        using var small = VisionEncoder.Open(quantized);
        float[] pixels = PixelValues.Concatenate(images);
        float[] a = full.Encode(pixels, images.Length, TestContext.Current.CancellationToken);
        float[] b = small.Encode(pixels, images.Length, TestContext.Current.CancellationToken);

        int width = model.RequireVision().TextHiddenSize;
        var cosines = a.Chunk(width).Zip(b.Chunk(width)).Select(p => Cosine(p.First, p.Second)).ToList();
        double mean = cosines.Average();
        double worst = cosines.Min();
        Assert.True(mean >= minimumMeanCosine, $"{format}: mean cosine of the image tokens to fp32 is {mean:F4} < {minimumMeanCosine}");
        Assert.True(worst >= minimumCosine, $"{format}: lowest cosine of an image token to fp32 is {worst:F4} < {minimumCosine}");
        TestContext.Current.TestOutputHelper?.WriteLine($"{format}: per-token cosine to fp32 mean {mean:F5}, lowest {worst:F5}");
    }

    [Fact]
    public void ACheckpointWithoutATowerConvertsTextOnlyAndRefusesImagesInOneLine()
    {
        using var temp = new TempDirectory();
        RandomCheckpoint.Create(T5Gemma2Preset.Tiny with { Vision = null }, 5, temp.Combine("hf"), TestAssets.GemmaTokenizerDirectory, TestContext.Current.CancellationToken);
        var converted = CheckpointConverter.Convert(temp.Combine("hf"), temp.Combine("onnx"), cancellationToken: TestContext.Current.CancellationToken);

        Assert.False(File.Exists(Path.Combine(converted.OutputDirectory, VisionGraphNames.GraphFile)));
        var model = ModelDirectory.Open(converted.OutputDirectory);
        Assert.Null(model.Vision);
        var error = Assert.Throws<ImagesNotSupportedException>(() => VisionEncoder.Open(model));
        Assert.Equal(FailureKind.Usage, error.Kind);
        Assert.Contains(converted.OutputDirectory, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void ATowerThatContradictsItsConfigIsRefusedNamingTheTensor()
    {
        using var temp = new TempDirectory();
        string deeper = temp.Combine("deeper"), wider = temp.Combine("wider");
        ModelDirectoryCopy.TopLevelFiles(tiny.CheckpointDirectory, deeper);
        ModelDirectoryCopy.TopLevelFiles(tiny.CheckpointDirectory, wider);
        Edit(deeper, vision => vision["num_hidden_layers"] = 3);
        Edit(wider, vision => vision["intermediate_size"] = 44);

        var missing = Assert.Throws<ModelFileException>(() => CheckpointConverter.Convert(deeper, temp.Combine("a"), cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("'model.encoder.vision_tower.vision_model.encoder.layers.2.layer_norm1.weight' is missing", missing.Message, StringComparison.Ordinal);
        var shape = Assert.Throws<ModelFileException>(() => CheckpointConverter.Convert(wider, temp.Combine("b"), cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("'model.encoder.vision_tower.vision_model.encoder.layers.0.mlp.fc1.weight' has shape [40, 24]; config.json implies [44, 24]", shape.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(temp.Combine("a")) && Directory.EnumerateFileSystemEntries(temp.Combine("a")).Any(), "nothing is written for a refused checkpoint");
    }

    [Fact]
    public void AnImageCountThatIsNotASquareIsRefusedInTheConfig()
    {
        using var temp = new TempDirectory();
        string checkpoint = temp.Combine("hf");
        ModelDirectoryCopy.TopLevelFiles(tiny.CheckpointDirectory, checkpoint);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(checkpoint, "config.json")))!;
        config["encoder"]!["mm_tokens_per_image"] = 2; // transformers would silently pool to 1 token
        File.WriteAllText(Path.Combine(checkpoint, "config.json"), config.ToJsonString());

        var error = Assert.Throws<ModelFileException>(() => CheckpointConverter.Convert(checkpoint, temp.Combine("onnx"), cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("'encoder.mm_tokens_per_image' is 2; expected a square", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Seeded pixel values in [−1, 1], as the processor's normalisation gives them.</summary>
    internal static PixelValues[] RandomImages(int size, int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => new PixelValues(size, size, [.. Enumerable.Range(0, 3 * size * size).Select(_ => (float)(random.Next(256) / 127.5 - 1))]))];
    }

    private static void Edit(string checkpoint, Action<JsonNode> change)
    {
        string path = Path.Combine(checkpoint, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(path))!;
        change(config["encoder"]!["vision_config"]!);
        File.WriteAllText(path, config.ToJsonString());
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }

        return dot / Math.Sqrt(na * nb);
    }
}
