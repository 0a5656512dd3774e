namespace T5Gemma2.Rag.Encoder.Generation;

/// <summary>How <see cref="Seq2SeqGenerator"/> chooses tokens. The defaults decode greedily, as transformers' generate() does.</summary>
public sealed class GenerationOptions
{
    /// <summary>The most tokens generated after the decoder start token; must be at least 1.</summary>
    public int MaxNewTokens { get; init; } = 128;

    /// <summary>The end-of-sequence token is suppressed until this many tokens exist (transformers' min_new_tokens).</summary>
    public int MinNewTokens { get; init; }

    /// <summary>Sample from the distribution instead of taking the most likely token.</summary>
    public bool Sample { get; init; }

    /// <summary>Sampling temperature (&gt; 0); 1 keeps the model's distribution.</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>Sample only among the k most likely tokens; 0 for no limit.</summary>
    public int TopK { get; init; }

    /// <summary>Sample only among the most likely tokens whose probabilities add up to this, in (0, 1]; 1 for no limit.</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>Seed of the sampler, for reproducible samples; null seeds from the clock.</summary>
    public int? Seed { get; init; }

    /// <summary>Divides positive (multiplies negative) logits of tokens already generated, as transformers does; 1 is off.</summary>
    public float RepetitionPenalty { get; init; } = 1f;

    /// <summary>Beam search with this many beams; 1 is greedy (or sampling).</summary>
    public int NumBeams { get; init; } = 1;

    /// <summary>Beam scores are divided by length to this power (transformers' length_penalty).</summary>
    public float LengthPenalty { get; init; } = 1f;

    /// <summary>Text that ends generation when it appears; it is not part of the answer.</summary>
    public IReadOnlyList<string> StopSequences { get; init; } = [];

    /// <summary>Reuse the self-attention cache between steps (on by default; off recomputes every step, for checks).</summary>
    public bool UseCache { get; init; } = true;

    public static GenerationOptions Default { get; } = new();

    /// <summary>Throws on settings that cannot work, naming the setting and what it accepts.</summary>
    public void Validate()
    {
        if (this.MaxNewTokens < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(this.MaxNewTokens), this.MaxNewTokens, "MaxNewTokens must be at least 1.");
        }

        if (!(this.TopP > 0 && this.TopP <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(this.TopP), this.TopP, "TopP must be in (0, 1].");
        }

        if (!(this.Temperature > 0) || float.IsInfinity(this.Temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(this.Temperature), this.Temperature, "Temperature must be a positive number.");
        }

        if (this.TopK < 0 || this.NumBeams < 1 || !(this.RepetitionPenalty > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(this.TopK), "TopK must be ≥ 0, NumBeams ≥ 1 and RepetitionPenalty > 0.");
        }

        if (this.NumBeams > 1 && this.Sample)
        {
            throw new ArgumentException("Beam search and sampling cannot be combined; choose NumBeams > 1 or Sample.", nameof(this.Sample));
        }
    }
}
