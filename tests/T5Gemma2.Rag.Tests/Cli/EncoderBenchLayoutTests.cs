using System.Text.Json;
using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Cli.Bench;
using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Encoder.Conversion;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Tests.Conversion;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Cli;

/// <summary>bench encoder on an EmbeddingGemma conversion (no image input, 3 heads over 1 key/value head at real size): it runs, and its FLOP count uses the model's own window.</summary>
public sealed class EncoderBenchLayoutTests(SharedTinySentenceTransformers layouts)
{
    [Fact]
    public async Task BenchEncoderRunsOnEmbeddingGemmaFp32AndInt4()
    {
        using var temp = new TempDirectory();
        var int4 = CheckpointConverter.Convert(layouts.EmbeddingGemmaCheckpoint, temp.Combine("int4"), WeightFormat.Int4, cancellationToken: TestContext.Current.CancellationToken);

        var (code, output, error) = await CliRunner.RunAsync("bench", "encoder", "-m", layouts.EmbeddingGemma.OutputDirectory, "-m", int4.OutputDirectory, "--shapes", "2x8,1x16", "--threads", "1");

        Assert.True(code == ExitCodes.Success, error);
        Assert.Contains("GEMM limit:", output, StringComparison.Ordinal);
        Assert.Contains("2 × 8", output, StringComparison.Ordinal);
        Assert.Contains("1 × 16", output, StringComparison.Ordinal);
    }

    [Fact]
    public void EmbeddingGemma300mFlopsPerTokenCountItsSymmetricWindow()
    {
        using var document = JsonDocument.Parse(RandomCheckpoint.EmbeddingGemmaConfig(T5Gemma2Preset.EmbeddingGemma300m).ToJsonString());
        var config = T5Gemma2Config.Parse(document.RootElement, "config.json").Encoder;

        // hidden 768, 3 × 256 query, 1 × 256 key/value, GeGLU 1152: 2 · (768·768 + 2·768·256 + 768·768 + 3·768·1152)
        // = 8,454,144 per layer, × 24. Attention, 2 · 2 · 768 per key: 20 sliding layers see 256 + 1 + 256 = 513 keys,
        // 4 full layers all 2048.
        double expected = 8_454_144.0 * 24 + 20 * 4 * 768 * 513.0 + 4 * 4 * 768 * 2048.0;

        Assert.Equal(expected, ComputeLimits.EncoderFlopsPerToken(config, 2048));
        // At 8 × 512 every window is cut by the sequence: 513 > 512 keys is never reached.
        Assert.Equal(8_454_144.0 * 24 + 24 * 4 * 768 * 512.0, ComputeLimits.EncoderFlopsPerToken(config, 512));
    }
}
