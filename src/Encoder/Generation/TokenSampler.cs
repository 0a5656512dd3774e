using System.Buffers;
using System.Numerics;

namespace T5Gemma2.Rag.Encoder.Generation;

/// <summary>Chooses the next token from logits: greedy, or sampling with temperature, top-k and top-p, after the repetition penalty.</summary>
public static class TokenSampler
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

    /// <summary>
    /// Samples after temperature, then keeps the top-k, then the smallest set whose probability reaches top-p. The
    /// tokens are ranked by scaled logit (ties by id), but only as far as the walk needs: the top-k are selected
    /// (quickselect) and sorted, and without top-k the ranked prefix grows until it holds top-p, instead of sorting the
    /// whole vocabulary for every token. It draws the token a full sort would, for the same seed.
    /// </summary>
    public static int Sample(ReadOnlySpan<float> logits, GenerationOptions options, Random random)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(random);
        int n = logits.Length;
        int k = options.TopK > 0 ? Math.Min(options.TopK, n) : n;
        float temperature = options.Temperature;
        ulong[] keys = ArrayPool<ulong>.Shared.Rent(n);
        double[] probabilities = ArrayPool<double>.Shared.Rent(n);
        try
        {
            for (int i = 0; i < n; i++)
            {
                keys[i] = RankKey(logits[i] / temperature, i);
            }

            var ranking = new Ranking(keys.AsSpan(0, n), logits, temperature);
            ranking.Extend(k < n ? k : Math.Min(n, FirstPrefix));
            double max = ranking.Max;
            double total;
            if (k < n)
            {
                total = 0;
                for (int i = 0; i < k; i++)
                {
                    probabilities[i] = ranking.Probability(i);
                    total += probabilities[i];
                }
            }
            else
            {
                // The normaliser of the whole vocabulary, summed in id order rather than rank order: it can differ
                // from the full sort's in its last bits, so a cut within Ambiguity of top-p is redone with the sum
                // in rank order below.
                total = 0;
                for (int i = 0; i < n; i++)
                {
                    total += Math.Exp((logits[i] / temperature) - max);
                }
            }

            int kept = Cut(ref ranking, probabilities, k, total, options.TopP, out bool ambiguous);
            if (ambiguous && k == n)
            {
                ranking.Extend(n);
                total = 0;
                for (int i = 0; i < n; i++)
                {
                    probabilities[i] = ranking.Probability(i);
                    total += probabilities[i];
                }

                kept = Cut(ref ranking, probabilities, k, total, options.TopP, out _);
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
                    return Id(ranking.Key(i));
                }
            }

            return Id(ranking.Key(kept - 1));
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(keys);
            ArrayPool<double>.Shared.Return(probabilities);
        }
    }

    /// <summary>Ranks first ranked when top-p needs a prefix of the vocabulary; it grows fourfold as the walk needs.</summary>
    private const int FirstPrefix = 256;

    /// <summary>
    /// How close to top-p a cumulative probability may come before the cut is redone with the full sort's normaliser:
    /// far above the ≈ n·2⁻⁵³ (3·10⁻¹¹ at 262,144) by which two summation orders can differ.
    /// </summary>
    private const double Ambiguity = 1e-9;

    /// <summary>The rank count that reaches top-p (or all <paramref name="k"/>), ranking further as it goes; probabilities[0..kept) filled.</summary>
    private static int Cut(ref Ranking ranking, double[] probabilities, int k, double total, float topP, out bool ambiguous)
    {
        double cumulative = 0;
        for (int i = 0; i < k; i++)
        {
            if (i == ranking.Count)
            {
                ranking.Extend(Math.Min(k, Math.Max(i * 4, FirstPrefix)));
            }

            probabilities[i] = ranking.Probability(i);
            double before = cumulative;
            cumulative += probabilities[i] / total;
            if (cumulative >= topP)
            {
                ambiguous = cumulative - topP < Ambiguity || topP - before < Ambiguity;
                return i + 1;
            }
        }

        ambiguous = topP - cumulative < Ambiguity;
        return k;
    }

    /// <summary>
    /// A key whose ascending order is the scaled logit descending, then the id ascending (the full sort's order):
    /// the float's bits made order-preserving and inverted in the high half, the id in the low half. −0 ranks as +0
    /// (they compare equal), and NaN after every number.
    /// </summary>
    private static ulong RankKey(float value, int id)
    {
        uint bits = float.IsNaN(value) ? 0xFFC00000u : BitConverter.SingleToUInt32Bits(value == 0 ? 0f : value);
        uint ascending = (bits & 0x80000000u) != 0 ? ~bits : bits | 0x80000000u;
        uint descending = float.IsNaN(value) ? uint.MaxValue : ~ascending;
        return ((ulong)descending << 32) | (uint)id;
    }

    private static int Id(ulong key) => (int)(uint)key;

    /// <summary>The rank keys of a row of logits, whose first <see cref="Count"/> are the smallest, in order; the rest in any order.</summary>
    private ref struct Ranking(Span<ulong> keys, ReadOnlySpan<float> logits, float temperature)
    {
        private readonly Span<ulong> _keys = keys;
        private readonly ReadOnlySpan<float> _logits = logits;

        public int Count { get; private set; }

        /// <summary>The largest scaled logit (rank 0; at least one rank must be ranked).</summary>
        public readonly double Max => this._logits[Id(this._keys[0])] / temperature;

        public readonly ulong Key(int rank) => this._keys[rank];

        /// <summary>exp(scaled logit − max) of the token at <paramref name="rank"/>, as the full sort computes it.</summary>
        public readonly double Probability(int rank) => Math.Exp((this._logits[Id(this._keys[rank])] / temperature) - this.Max);

        /// <summary>Ranks up to <paramref name="count"/>: selects the next smallest keys, then sorts only those.</summary>
        public void Extend(int count)
        {
            if (count <= this.Count)
            {
                return;
            }

            var rest = this._keys[this.Count..];
            SelectSmallest(rest, count - this.Count);
            rest[..(count - this.Count)].Sort();
            this.Count = count;
        }

        /// <summary>Quickselect (median of three, Hoare partition): afterwards span[..count) holds the count smallest keys. Keys are distinct (the id is in them).</summary>
        private static void SelectSmallest(Span<ulong> span, int count)
        {
            int target = count - 1, lo = 0, hi = span.Length - 1;
            int depth = 2 * (BitOperations.Log2((uint)span.Length) + 1);
            while (hi > lo)
            {
                if (depth-- == 0)
                {
                    // Adversarial orders cannot make it quadratic: past the depth the rest is sorted.
                    span[lo..(hi + 1)].Sort();
                    return;
                }

                int mid = lo + ((hi - lo) / 2);
                ulong a = span[lo], b = span[mid], c = span[hi];
                ulong pivot = Math.Max(Math.Min(a, b), Math.Min(Math.Max(a, b), c));
                int i = lo, j = hi;
                while (i <= j)
                {
                    while (span[i] < pivot)
                    {
                        i++;
                    }

                    while (span[j] > pivot)
                    {
                        j--;
                    }

                    if (i <= j)
                    {
                        (span[i], span[j]) = (span[j], span[i]);
                        i++;
                        j--;
                    }
                }

                if (target <= j)
                {
                    hi = j;
                }
                else if (target >= i)
                {
                    lo = i;
                }
                else
                {
                    return;
                }
            }
        }
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
