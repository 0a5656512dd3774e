namespace T5Gemma2.Rag.Encoder.Conversion;

/// <summary>What a conversion wrote.</summary>
/// <param name="OutputDirectory">The model directory, ready for <c>OnnxEmbeddingGenerator.Create</c>.</param>
/// <param name="EncoderGraphPath">The encoder graph.</param>
/// <param name="WeightBytes">Bytes of weights written (graph initializers).</param>
/// <param name="Elapsed">Wall-clock time of the conversion.</param>
public sealed record ConversionResult(string OutputDirectory, string EncoderGraphPath, long WeightBytes, TimeSpan Elapsed);
