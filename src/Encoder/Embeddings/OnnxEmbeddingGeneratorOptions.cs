using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Onnx;

namespace T5Gemma2.Rag.Encoder.Embeddings;

/// <summary>Settings of an <see cref="OnnxEmbeddingGenerator"/>. Null means "as the model directory says".</summary>
public sealed class OnnxEmbeddingGeneratorOptions
{
    /// <summary>Overrides the model's pooling.</summary>
    public PoolingMode? Pooling { get; init; }

    /// <summary>Overrides whether vectors are L2-normalized.</summary>
    public bool? Normalize { get; init; }

    /// <summary>Overrides the most tokens an input keeps (never above what the model's positions allow).</summary>
    public int? MaxLength { get; init; }

    /// <summary>The most padded tokens (batch size × longest input) in one ONNX Runtime run. TEI's default is 16,384.</summary>
    public int MaxBatchTokens { get; init; } = 16_384;

    /// <summary>The most inputs in one run.</summary>
    public int MaxBatchSize { get; init; } = 256;

    /// <summary>Sort inputs by length before batching (on by default; off only to measure what sorting gains).</summary>
    public bool SortByLength { get; init; } = true;

    public OnnxSessionOptions Session { get; init; } = OnnxSessionOptions.Default;

    public static OnnxEmbeddingGeneratorOptions Default { get; } = new();
}
