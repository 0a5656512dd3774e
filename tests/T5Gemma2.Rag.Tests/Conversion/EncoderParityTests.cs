using Microsoft.ML.OnnxRuntime;
using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Encoder.Conversion;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Conversion;

/// <summary>
/// The converted encoder graph, run by ONNX Runtime, against the double-precision reference on the tiny preset:
/// padded batches, sequences several times longer than the sliding window (4), the end-of-image override and image
/// soft tokens. Padded positions carry no meaning and are not compared.
/// </summary>
public sealed class EncoderParityTests(SharedTinyT5Gemma2 tiny)
{
    private const double Tolerance = 1e-4;
    private const int Hidden = 16;

    [Fact]
    public void PaddedBatchesMatchTheReference()
    {
        // Right padding, left padding, a one-token row; ids include <end_of_image> (256000) and <bos>.
        long[][] ids =
        [
            [2, 651, 9259, 1902, 236764, 256000, 107, 3721, 88, 17, 40960, 2, 5001, 77, 6],
            [2, 11, 22, 33, 44, 55, 66, 0, 0, 0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 2, 900, 901, 902, 903, 904, 905, 906, 907],
            [2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        ];
        long[][] mask = [.. ids.Select((row, b) => row.Select((id, s) => b switch
        {
            1 => s < 7 ? 1L : 0L,
            2 => s >= 6 ? 1L : 0L,
            3 => s < 1 ? 1L : 0L,
            _ => 1L,
        }).ToArray())];

        this.AssertParity(ids, mask, imageFeatures: null);
    }

    [Fact]
    public void LongSequenceAcrossManyWindowBlocksMatchesTheReference()
    {
        var random = new Random(5);
        long[][] ids = [[2, .. Enumerable.Range(0, 40).Select(_ => (long)random.Next(3, 262_000))]];
        long[][] mask = [[.. ids[0].Select(_ => 1L)]];

        this.AssertParity(ids, mask, imageFeatures: null);
    }

    [Fact]
    public void ImageSoftTokensTakeTheImageFeaturesInOrder()
    {
        long[][] ids = [[2, 255999, 256001, 256001, 256000, 10, 11], [2, 256001, 12, 13, 14, 15, 16]];
        long[][] mask = [[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1]];
        var random = new Random(11);
        float[][] features = [.. Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, Hidden).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray())];

        this.AssertParity(ids, mask, features);
    }

    [Fact]
    public void ImageTokensWithoutImagesKeepTheirEmbedding()
    {
        // A literal <image_soft_token> in text, with no image features: the reference leaves the scaled embedding.
        long[][] ids = [[2, 256001, 10, 256001, 11]];
        long[][] mask = [[1, 1, 1, 1, 1]];

        this.AssertParity(ids, mask, imageFeatures: null);
    }

    [Fact]
    public void AttentionSoftcappingTakesTheExplicitPathAndMatches()
    {
        // The released models have no soft-capping; a config that sets it must still convert exactly.
        using var temp = new TempDirectory();
        string checkpoint = temp.Combine("hf");
        ModelDirectoryCopy.TopLevelFiles(tiny.CheckpointDirectory, checkpoint);

        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(checkpoint, "config.json")))!;
        config["encoder"]!["text_config"]!["attn_logit_softcapping"] = 2.0;
        File.WriteAllText(Path.Combine(checkpoint, "config.json"), config.ToJsonString());
        var converted = CheckpointConverter.Convert(checkpoint, temp.Combine("onnx"), cancellationToken: TestContext.Current.CancellationToken);
        long[][] ids = [[2, 651, 9259, 1902, 236764, 256000, 107, 3721, 88, 17], [2, 11, 22, 33, 0, 0, 0, 0, 0, 0]];
        long[][] mask = [[1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]];

        AssertParity(ids, mask, imageFeatures: null, checkpoint, converted.EncoderGraphPath);
    }

    private void AssertParity(long[][] ids, long[][] mask, float[][]? imageFeatures) =>
        AssertParity(ids, mask, imageFeatures, tiny.CheckpointDirectory, tiny.Conversion.EncoderGraphPath);

    internal static void AssertParity(long[][] ids, long[][] mask, float[][]? imageFeatures, string checkpoint, string graph)
    {
        using var weights = SafeTensorsCheckpoint.Open(checkpoint);
        var expected = new ReferenceEncoder(checkpoint, weights).Run(ids, mask, imageFeatures);

        float[] actual = RunGraph(graph, ids, mask, imageFeatures);

        int length = ids[0].Length;
        double worst = 0;
        for (int b = 0; b < ids.Length; b++)
        {
            for (int s = 0; s < length; s++)
            {
                if (mask[b][s] == 0)
                {
                    continue;
                }

                for (int h = 0; h < Hidden; h++)
                {
                    worst = Math.Max(worst, Math.Abs(expected[b][s][h] - actual[(b * length + s) * Hidden + h]));
                }
            }
        }

        Assert.True(worst <= Tolerance, $"max abs difference {worst:E2} > {Tolerance:E0}");
        TestContext.Current.TestOutputHelper?.WriteLine($"max abs difference to the reference: {worst:E2}");
    }

    internal static float[] RunGraph(string graph, long[][] ids, long[][] mask, float[][]? imageFeatures)
    {
        using var session = new InferenceSession(graph);
        int batch = ids.Length, length = ids[0].Length;
        float[] features = imageFeatures?.SelectMany(f => f).ToArray() ?? [];
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids.SelectMany(r => r).ToArray(), [batch, length]);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask.SelectMany(r => r).ToArray(), [batch, length]);
        using var imageValue = OrtValue.CreateTensorValueFromMemory(features, [features.Length / Hidden, Hidden]);
        using var runOptions = new RunOptions();
        // A Gemma 3 encoder's graph declares no image input; feed what the graph has.
        bool hasImage = session.InputMetadata.ContainsKey("image_features");
        using var outputs = hasImage
            ? session.Run(runOptions, ["input_ids", "attention_mask", "image_features"], [idsValue, maskValue, imageValue], ["last_hidden_state"])
            : session.Run(runOptions, ["input_ids", "attention_mask"], [idsValue, maskValue], ["last_hidden_state"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }
}
