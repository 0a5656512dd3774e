namespace T5Gemma2.Rag.Encoder.Models;

/// <summary>Rotary position embedding of one layer type: base θ and linear scaling factor (1 when not scaled).</summary>
/// <param name="Theta">The base of the inverse frequencies.</param>
/// <param name="LinearFactor">Inverse frequencies are divided by it ("linear" rope_type); 1 for "default".</param>
public readonly record struct RopeSettings(double Theta, double LinearFactor);
