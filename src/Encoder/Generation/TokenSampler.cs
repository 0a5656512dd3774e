namespace T5Gemma2.Rag.Encoder.Generation;

/// <summary>Chooses the next token from logits: greedy, or sampling with temperature, top-k and top-p, after the repetition penalty.</summary>
internal static class TokenSampler
{
    /// <summary>transformers' RepetitionPenaltyLogitsProcessor: a seen token's logit is divided by the penalty if positive, multiplied if not.</summary>
    public static void ApplyRepetitionPenalty(Span<float> logits, IEnumerable<int> seen, float penalty)
    {
        if (penalty == 1f)
        {
            return;
        }

        foreach (int id in seen.Distinct())
        {
            if ((uint)id < (uint)logits.Length)
            {
                logits[id] = logits[id] > 0 ? logits[id] / penalty : logits[id] * penalty;
            }
        }
    }

    public static int Greedy(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>Samples after temperature, then keeps the top-k, then the smallest set whose probability reaches top-p.</summary>
    public static int Sample(ReadOnlySpan<float> logits, GenerationOptions options, Random random)
    {
        int k = options.TopK > 0 ? Math.Min(options.TopK, logits.Length) : logits.Length;
        int[] order = new int[logits.Length];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        float[] scaled = new float[logits.Length];
        for (int i = 0; i < scaled.Length; i++)
        {
            scaled[i] = logits[i] / options.Temperature;
        }

        // Ties broken by id, so a seed always gives the same token.
        Array.Sort(order, (a, b) => scaled[a] != scaled[b] ? scaled[b].CompareTo(scaled[a]) : a.CompareTo(b));
        double max = scaled[order[0]];
        var probabilities = new double[k];
        double total = 0;
        for (int i = 0; i < k; i++)
        {
            probabilities[i] = Math.Exp(scaled[order[i]] - max);
            total += probabilities[i];
        }

        int kept = k;
        double cumulative = 0;
        for (int i = 0; i < k; i++)
        {
            cumulative += probabilities[i] / total;
            if (cumulative >= options.TopP)
            {
                kept = i + 1;
                break;
            }
        }

        double keptTotal = 0;
        for (int i = 0; i < kept; i++)
        {
            keptTotal += probabilities[i];
        }

        double draw = random.NextDouble() * keptTotal;
        for (int i = 0; i < kept; i++)
        {
            draw -= probabilities[i];
            if (draw <= 0)
            {
                return order[i];
            }
        }

        return order[kept - 1];
    }

    /// <summary>log softmax of <paramref name="logits"/> into <paramref name="destination"/>.</summary>
    public static void LogSoftmax(ReadOnlySpan<float> logits, Span<float> destination)
    {
        float max = float.NegativeInfinity;
        foreach (float value in logits)
        {
            max = Math.Max(max, value);
        }

        double sum = 0;
        foreach (float value in logits)
        {
            sum += Math.Exp(value - max);
        }

        float log = (float)(max + Math.Log(sum));
        for (int i = 0; i < logits.Length; i++)
        {
            destination[i] = logits[i] - log;
        }
    }
}
