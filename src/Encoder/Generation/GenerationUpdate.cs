namespace T5Gemma2.Rag.Encoder.Generation;

/// <summary>
/// One step of a streamed generation: a text delta, or, last, the whole result, so a streaming caller still learns
/// how many tokens were generated and why generation ended (what an API reports as usage and finish reason).
/// </summary>
/// <param name="Delta">Text that follows what came before; null on the last update.</param>
/// <param name="Result">The finished generation; only on the last update.</param>
public sealed record GenerationUpdate(string? Delta = null, GenerationResult? Result = null);
