using Microsoft.ML.OnnxRuntime;
using T5Gemma2.Rag.Encoder.Conversion;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Conversion;

/// <summary>
/// The graphs converted from the two sentence-transformers layouts, run by ONNX Runtime, against the double-precision
/// reference: EmbeddingGemma's symmetric window (tiny W = 4 loads as W' = 3: two keys either side, where T5Gemma 2's
/// rule gives one to the left and two to the right), no eoi vector and no image input; the standalone encoder's bare names.
/// </summary>
public sealed class LayoutParityTests(SharedTinySentenceTransformers layouts)
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(9)]
    [InlineData(17)]
    public void EmbeddingGemmaMatchesTheReferenceAtLengthsAcrossTheWindowEdges(int length)
    {
        var random = new Random(length);
        long[][] ids = [[2, .. Enumerable.Range(1, length - 1).Select(_ => (long)random.Next(3, 262_000))]];
        long[][] mask = [[.. ids[0].Select(_ => 1L)]];

        EncoderParityTests.AssertParity(ids, mask, null, layouts.EmbeddingGemmaCheckpoint, layouts.EmbeddingGemma.EncoderGraphPath);
    }

    [Fact]
    public void EmbeddingGemmaPaddedBatchMatchesTheReference()
    {
        // 256000 is <end_of_image> to T5Gemma 2 but an ordinary token to Gemma 3: the reference embeds it as a row.
        long[][] ids =
        [
            [2, 651, 9259, 1902, 236764, 256000, 107, 3721, 88, 17, 40960, 1],
            [2, 11, 22, 33, 44, 1, 0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 2, 900, 901, 902, 903, 904, 905, 1],
            [2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        ];
        long[][] mask = [.. ids.Select((row, b) => row.Select((_, s) => b switch
        {
            1 => s < 6 ? 1L : 0L,
            2 => s >= 4 ? 1L : 0L,
            3 => s < 1 ? 1L : 0L,
            _ => 1L,
        }).ToArray())];

        EncoderParityTests.AssertParity(ids, mask, null, layouts.EmbeddingGemmaCheckpoint, layouts.EmbeddingGemma.EncoderGraphPath);
    }

    [Fact]
    public void StandaloneEncoderMatchesTheReference()
    {
        long[][] ids = [[2, 651, 9259, 1902, 236764, 256000, 107, 3721, 88, 17], [2, 11, 22, 33, 0, 0, 0, 0, 0, 0]];
        long[][] mask = [[1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]];

        EncoderParityTests.AssertParity(ids, mask, null, layouts.StandaloneEncoderCheckpoint, layouts.StandaloneEncoder.EncoderGraphPath);
    }

    [Fact]
    public void EmbeddingGemmaGraphHasNoImageInputAndTheStandaloneEncoderHasOne()
    {
        using var gemma = new InferenceSession(layouts.EmbeddingGemma.EncoderGraphPath);
        using var standalone = new InferenceSession(layouts.StandaloneEncoder.EncoderGraphPath);

        Assert.Equal(["input_ids", "attention_mask"], gemma.InputMetadata.Keys);
        Assert.Contains("image_features", standalone.InputMetadata.Keys);
        Assert.Equal(["last_hidden_state"], gemma.OutputMetadata.Keys);
    }

    [Theory]
    [InlineData(WeightFormat.Int8, 0.99)]
    [InlineData(WeightFormat.Int4, 0.95)]
    public void EmbeddingGemmaQuantizedGraphsRunCloseToFp32(WeightFormat format, double minimumCosine)
    {
        using var temp = new TempDirectory();
        var quantized = CheckpointConverter.Convert(layouts.EmbeddingGemmaCheckpoint, temp.Combine("q"), format, cancellationToken: TestContext.Current.CancellationToken);
        var random = new Random(3);
        long[][] ids = [[2, .. Enumerable.Range(0, 12).Select(_ => (long)random.Next(3, 262_000)), 1]];
        long[][] mask = [[.. ids[0].Select(_ => 1L)]];

        float[] full = EncoderParityTests.RunGraph(layouts.EmbeddingGemma.EncoderGraphPath, ids, mask, null);
        float[] small = EncoderParityTests.RunGraph(quantized.EncoderGraphPath, ids, mask, null);

        // Per position: the states are what pooling reads.
        const int Hidden = 16;
        double worst = Enumerable.Range(0, ids[0].Length).Min(s => Cosine(full.AsSpan(s * Hidden, Hidden), small.AsSpan(s * Hidden, Hidden)));
        Assert.True(worst >= minimumCosine, $"{format}: lowest per-position cosine {worst:F4}");
    }

    private static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(a, b);
}
