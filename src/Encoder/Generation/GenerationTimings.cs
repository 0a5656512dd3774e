namespace T5Gemma2.Rag.Encoder.Generation;

/// <summary>Where a generation's time went, for benchmarks and answer breakdowns.</summary>
/// <param name="Encode">The encoder over the input.</param>
/// <param name="CrossCache">Every layer's cross keys and values from the encoder states, once per request.</param>
/// <param name="FirstStep">The first decoder step (with the encoder and cross cache, the time to the first token).</param>
/// <param name="Decode">All decoder steps, the first included.</param>
public sealed record GenerationTimings(TimeSpan Encode, TimeSpan CrossCache, TimeSpan FirstStep, TimeSpan Decode);
