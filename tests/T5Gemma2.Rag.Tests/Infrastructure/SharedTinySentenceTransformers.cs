using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Encoder.Conversion;

namespace T5Gemma2.Rag.Tests.Infrastructure;

/// <summary>
/// Random tiny checkpoints of the two sentence-transformers layouts (EmbeddingGemma's, and a standalone T5Gemma 2
/// encoder's), with the Gemma 3 tokenizer, and their fp32 conversions, made once per test run.
/// </summary>
public sealed class SharedTinySentenceTransformers : IDisposable
{
    private readonly TempDirectory _temp = new();

    public SharedTinySentenceTransformers()
    {
        this.EmbeddingGemmaCheckpoint = this._temp.Combine("embeddinggemma");
        this.StandaloneEncoderCheckpoint = this._temp.Combine("st-t5gemma2-encoder");
        RandomCheckpoint.Create(RandomLayout.EmbeddingGemma, T5Gemma2Preset.EmbeddingGemmaTiny, Seed, this.EmbeddingGemmaCheckpoint, TestAssets.GemmaTokenizerDirectory);
        RandomCheckpoint.Create(RandomLayout.SentenceTransformersT5Gemma2Encoder, T5Gemma2Preset.Tiny, Seed, this.StandaloneEncoderCheckpoint, TestAssets.GemmaTokenizerDirectory);
        this.EmbeddingGemma = CheckpointConverter.Convert(this.EmbeddingGemmaCheckpoint, this._temp.Combine("embeddinggemma-onnx"));
        this.StandaloneEncoder = CheckpointConverter.Convert(this.StandaloneEncoderCheckpoint, this._temp.Combine("st-t5gemma2-encoder-onnx"));
    }

    public const int Seed = 20261207;

    public string EmbeddingGemmaCheckpoint { get; }

    public string StandaloneEncoderCheckpoint { get; }

    public ConversionResult EmbeddingGemma { get; }

    public ConversionResult StandaloneEncoder { get; }

    public void Dispose() => this._temp.Dispose();
}
