using System.Text.Json;
using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Encoder.Images;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Vision;
using T5Gemma2.Rag.Tests.Images;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Conversion;

/// <summary>
/// The converted tiny model's image path against goldens from transformers itself (tools/hf-reference/make_vision_goldens.py
/// on the same seeded checkpoint): the processor's pixel values against our preprocessing, the projector's image
/// features, encoder states over mixed text and images, decoder logits and greedy tokens. Should the goldens be
/// missing, each test says that it skipped and why.
/// </summary>
public sealed class VisionGoldenTests(SharedTinyT5Gemma2 tiny)
{
    private static readonly string s_goldens = Path.Combine(TestAssets.RepositoryRoot, "tests", "T5Gemma2.Rag.Tests", "Conversion", "Goldens", $"vision-tiny-seed{SharedTinyT5Gemma2.Seed}.json");

    [Fact]
    public void OurPreprocessingMatchesTheProcessorsPixelValues()
    {
        using var document = Open();
        var root = document.RootElement;
        var preprocessor = ImagePreprocessor.Create(new ImagePreprocessorOptions(root.GetProperty("image_size").GetInt32()));
        foreach (var (backend, values) in root.GetProperty("pixel_values_by_backend").EnumerateObject().Select(p => (p.Name, p.Value)))
        {
            var images = root.GetProperty("images").EnumerateArray().Select(i => i.GetString()!).ToArray();
            for (int k = 0; k < images.Length; k++)
            {
                float[] ours = preprocessor.Load(TestImages.PathOf(images[k]), TestContext.Current.CancellationToken).Values;
                double worst = Flatten(values[k]).Select((v, i) => Math.Abs(v - ours[i])).Max();
                Assert.True(worst <= 2.0 / 255, $"{images[k]}: max abs difference to {backend} {worst:E2} > 2/255");
                TestContext.Current.TestOutputHelper?.WriteLine($"{images[k]} vs {backend}: max abs difference {worst:E2}");
            }
        }
    }

    [Fact]
    public void ImageFeaturesEncoderStatesAndLogitsMatchTransformers()
    {
        using var document = Open();
        var root = document.RootElement;
        var model = ModelDirectory.Open(tiny.ConvertedDirectory);
        var vision = model.RequireVision();
        int size = root.GetProperty("image_size").GetInt32();
        var pixels = root.GetProperty("pixel_values").EnumerateArray().Select(image => new PixelValues(size, size, Flatten(image))).ToArray();

        using var tower = VisionEncoder.Open(model);
        float[] features = tower.Encode(PixelValues.Concatenate(pixels), pixels.Length, TestContext.Current.CancellationToken);
        double[] expectedFeatures = [.. root.GetProperty("image_features").EnumerateArray().SelectMany(image => image.EnumerateArray().SelectMany(row => row.EnumerateArray().Select(v => v.GetDouble())))];
        Assert.True(MaxDifference(expectedFeatures, features) <= 1e-4, $"image features: max abs difference to transformers {MaxDifference(expectedFeatures, features):E2}");

        long[] ids = [.. root.GetProperty("input_ids").EnumerateArray().Select(v => v.GetInt64())];
        float[][] rows = [.. features.Chunk(vision.TextHiddenSize)];
        float[] states = EncoderParityTests.RunGraph(tiny.Conversion.EncoderGraphPath, [ids], [[.. ids.Select(_ => 1L)]], rows);
        double[] expectedStates = [.. root.GetProperty("last_hidden_state").EnumerateArray().SelectMany(row => row.EnumerateArray().Select(v => v.GetDouble()))];
        Assert.True(MaxDifference(expectedStates, states) <= 1e-4, $"encoder states with images: max abs difference to transformers {MaxDifference(expectedStates, states):E2}");

        using var generator = Seq2SeqGenerator.Create(tiny.ConvertedDirectory);
        var input = EncoderInput.WithImages([.. ids.Select(i => (int)i)], pixels);
        int[] sample = [.. root.GetProperty("first_step_logit_ids").EnumerateArray().Select(v => v.GetInt32())];
        float[] first = generator.Logits(input, [2], TestContext.Current.CancellationToken);
        double worstFirst = sample.Select((id, i) => Math.Abs(root.GetProperty("first_step_logits")[i].GetDouble() - first[id])).Max();
        Assert.True(worstFirst <= 1e-4, $"first-step logits with images: max abs difference to transformers {worstFirst:E2}");

        int[] forced = [.. root.GetProperty("forced_decoder_ids").EnumerateArray().Select(v => v.GetInt32())];
        float[] forcedLogits = generator.Logits(input, forced, TestContext.Current.CancellationToken);
        int vocabulary = forcedLogits.Length / forced.Length;
        for (int t = 0; t < forced.Length; t++)
        {
            double worst = sample.Select((id, i) => Math.Abs(root.GetProperty("forced_logits")[t][i].GetDouble() - forcedLogits[(t * vocabulary) + id])).Max();
            Assert.True(worst <= 1e-4, $"decoder position {t} with images: max abs logit difference to transformers {worst:E2}");
        }
    }

    [Fact]
    public async Task GreedyTokensWithImagesMatchTransformers()
    {
        using var document = Open();
        var root = document.RootElement;
        int size = root.GetProperty("image_size").GetInt32();
        var pixels = root.GetProperty("pixel_values").EnumerateArray().Select(image => new PixelValues(size, size, Flatten(image))).ToArray();
        int[] ids = [.. root.GetProperty("input_ids").EnumerateArray().Select(v => v.GetInt32())];
        using var generator = Seq2SeqGenerator.Create(tiny.ConvertedDirectory);

        var answer = (await generator.GenerateAsync([EncoderInput.WithImages(ids, pixels)], new GenerationOptions { MaxNewTokens = 16 }, TestContext.Current.CancellationToken))[0];

        var expected = root.GetProperty("greedy_tokens").EnumerateArray().Select(v => v.GetInt32()).Skip(1).TakeWhile(t => t != 1).ToArray();
        Assert.Equal(expected, answer.TokenIds.Take(expected.Length));
    }

    private static JsonDocument Open()
    {
        if (!File.Exists(s_goldens))
        {
            Assert.Skip($"no Hugging Face vision goldens at tests/T5Gemma2.Rag.Tests/Conversion/Goldens/{Path.GetFileName(s_goldens)}: no machine with transformers was lent; produce them with tools/hf-reference/make_vision_goldens.py (see tools/hf-reference/README.md)");
        }

        return JsonDocument.Parse(File.ReadAllText(s_goldens));
    }

    private static float[] Flatten(JsonElement image) =>
        [.. image.EnumerateArray().SelectMany(channel => channel.EnumerateArray().SelectMany(row => row.EnumerateArray().Select(v => (float)v.GetDouble())))];

    private static double MaxDifference(double[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        return expected.Select((v, i) => Math.Abs(v - actual[i])).Max();
    }
}
