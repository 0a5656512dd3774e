using Microsoft.Extensions.Logging;
using T5Gemma2.Rag.Encoder.Models;

namespace T5Gemma2.Rag.Encoder.Embeddings;

/// <summary>Source-generated log messages of <see cref="OnnxEmbeddingGenerator"/> (event ids 1000–1099).</summary>
internal static partial class OnnxEmbeddingGeneratorLog
{
    [LoggerMessage(1000, LogLevel.Information, "Loaded embedding model {ModelId} ({Kind}, {Dimensions} dimensions, up to {MaxLength} tokens) from {Path}")]
    public static partial void ModelLoaded(this ILogger logger, string modelId, ModelKind kind, int dimensions, int maxLength, string path);

    [LoggerMessage(1001, LogLevel.Warning, "{Truncated} of {Total} inputs were longer than {MaxLength} tokens and were truncated")]
    public static partial void InputsTruncated(this ILogger logger, int truncated, int total, int maxLength);

    [LoggerMessage(1002, LogLevel.Debug, "Embedded {Count} inputs ({Tokens} tokens) in {Runs} runs in {Milliseconds:F1} ms")]
    public static partial void Embedded(this ILogger logger, int count, long tokens, int runs, double milliseconds);

    [LoggerMessage(1003, LogLevel.Warning, "Model {ModelId} lists no Matryoshka dimensions; its vectors are cut to {Dimensions} of {Width} components anyway, which works only if it was trained for it")]
    public static partial void DimensionsNotListed(this ILogger logger, string modelId, int dimensions, int width);

    [LoggerMessage(1004, LogLevel.Warning, "Model {ModelId} asks for up to {Configured} tokens per input, past its {Positions} positions (config.json max_position_embeddings); inputs are cut at {Positions}")]
    public static partial void MaxLengthCapped(this ILogger logger, string modelId, int configured, int positions);
}
