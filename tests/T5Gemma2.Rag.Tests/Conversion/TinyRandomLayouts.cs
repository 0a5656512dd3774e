using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Encoder.Conversion;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Conversion;

/// <summary>
/// <c>create-random</c>'s two sentence-transformers layouts at the tiny preset (an EmbeddingGemma and a standalone
/// T5Gemma 2 encoder), with the Gemma tokenizer, and their fp32 conversions; made once per test class.
/// </summary>
public sealed class TinyRandomLayouts : IDisposable
{
    private readonly TempDirectory _temp = new();

    public TinyRandomLayouts()
    {
        this.EmbeddingGemma = this._temp.Combine("embeddinggemma");
        this.StandaloneEncoder = this._temp.Combine("st-t5gemma2-encoder");
        RandomCheckpoint.Create(RandomLayout.EmbeddingGemma, T5Gemma2Preset.EmbeddingGemmaTiny, Seed, this.EmbeddingGemma, TestAssets.GemmaTokenizerDirectory);
        RandomCheckpoint.Create(RandomLayout.SentenceTransformersT5Gemma2Encoder, T5Gemma2Preset.Tiny, Seed, this.StandaloneEncoder, TestAssets.GemmaTokenizerDirectory);
        this.EmbeddingGemmaConversion = CheckpointConverter.Convert(this.EmbeddingGemma, this._temp.Combine("embeddinggemma-onnx"));
        this.StandaloneEncoderConversion = CheckpointConverter.Convert(this.StandaloneEncoder, this._temp.Combine("st-t5gemma2-encoder-onnx"));
    }

    public const int Seed = 20251207;

    /// <summary>The random EmbeddingGemma checkpoint (google/embeddinggemma-300m's files at the tiny dimensions).</summary>
    public string EmbeddingGemma { get; }

    /// <summary>The random sentence-transformers standalone T5Gemma 2 encoder checkpoint.</summary>
    public string StandaloneEncoder { get; }

    public ConversionResult EmbeddingGemmaConversion { get; }

    public ConversionResult StandaloneEncoderConversion { get; }

    public void Dispose() => this._temp.Dispose();
}
