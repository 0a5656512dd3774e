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

    /// <summary>
    /// The vector length every call makes unless its <see cref="Microsoft.Extensions.AI.EmbeddingGenerationOptions.Dimensions"/>
    /// says otherwise: the leading components, renormalised (a Matryoshka cut; checked against the model's list). Null:
    /// config_sentence_transformers.json's truncate_dim, else the model's full width.
    /// </summary>
    public int? Dimensions { get; init; }

    /// <summary>Overrides the most tokens an input keeps (never above what the model's positions allow).</summary>
    public int? MaxLength { get; init; }

    /// <summary>
    /// The most padded tokens (batch size × longest input) in one ONNX Runtime run. Null picks by device: 1,024 on the
    /// CPU, where larger batches fall out of cache (measured: 1,024 gives 1.2× the throughput of 16,384 for MiniLM on
    /// 2 cores; see the README's figures), and 16,384 on CUDA, text-embeddings-inference's default.
    /// </summary>
    public int? MaxBatchTokens { get; init; }

    /// <summary>The most inputs in one run.</summary>
    public int MaxBatchSize { get; init; } = 256;

    /// <summary>Sort inputs by length before batching (on by default; off only to measure what sorting gains).</summary>
    public bool SortByLength { get; init; } = true;

    public OnnxSessionOptions Session { get; init; } = OnnxSessionOptions.Default;

    /// <summary><see cref="MaxBatchTokens"/>, or the device's default when it is null.</summary>
    public int EffectiveMaxBatchTokens => this.MaxBatchTokens ?? (this.Session.Device == ExecutionDevice.Cuda ? 16_384 : 1_024);

    public static OnnxEmbeddingGeneratorOptions Default { get; } = new();
}
