using T5Gemma2.Rag.Encoder.Generation;

namespace T5Gemma2.Rag.Tests.Generation;

/// <summary>
/// The sampler's partial selection draws the same tokens as sorting the whole vocabulary did, for every seed and
/// setting: compared against that full sort, written out here as it was before.
/// </summary>
public sealed class TokenSamplerTests
{
    [Fact]
    public void SmallVocabulariesWithTiesAndMaskedTokensSampleAsTheFullSortDoes()
    {
        var source = new Random(7);
        int compared = 0;
        foreach (int n in (int[])[1, 2, 3, 7, 64, 300])
        {
            for (int row = 0; row < 6; row++)
            {
                float[] logits = new float[n];
                for (int i = 0; i < n; i++)
                {
                    // Coarse values make ties; -0 beside +0, masked (-∞) tokens, and one row of equal logits.
                    logits[i] = row switch
                    {
                        0 => 1f,
                        1 => MathF.Round((float)(source.NextDouble() * 4), 0) - 2f,
                        2 => i % 5 == 0 ? float.NegativeInfinity : (float)(source.NextDouble() * 20) - 10f,
                        3 => i % 2 == 0 ? 0f : -0f,
                        _ => (float)(source.NextDouble() * 8 * row) - (4 * row),
                    };
                }

                foreach (var options in Settings(n))
                {
                    compared += CompareSequences(logits, options, seeds: 8, length: 4);
                }
            }
        }

        Assert.True(compared > 10_000, $"only {compared} draws compared");
    }

    [Theory]
    [InlineData(3.0)]
    [InlineData(0.5)]
    public void TheFullGemmaVocabularySamplesAsTheFullSortDoes(double spread)
    {
        const int Vocabulary = 262_144;
        var source = new Random(11);
        float[] logits = new float[Vocabulary];
        for (int i = 0; i < Vocabulary; i++)
        {
            logits[i] = (float)(spread * Math.Sqrt(-2 * Math.Log(1 - source.NextDouble())) * Math.Cos(2 * Math.PI * source.NextDouble()));
        }

        GenerationOptions[] settings =
        [
            new() { Sample = true, TopK = 50 },
            new() { Sample = true, TopP = 0.9f },
            new() { Sample = true, TopK = 50, TopP = 0.9f },
            new() { Sample = true, TopP = 0.5f, Temperature = 0.7f },
            new() { Sample = true, TopK = 1_000, TopP = 0.95f, Temperature = 1.3f },
        ];
        foreach (var options in settings)
        {
            CompareSequences(logits, options, seeds: 3, length: 2);
        }
    }

    private static IEnumerable<GenerationOptions> Settings(int n)
    {
        foreach (int k in (int[])[0, 1, 2, 5, 50, n])
        {
            foreach (float p in (float[])[0.1f, 0.25f, 0.5f, 0.9f, 0.999f, 1f])
            {
                foreach (float t in (float[])[0.3f, 1f, 2f])
                {
                    yield return new GenerationOptions { Sample = true, TopK = k, TopP = p, Temperature = t };
                }
            }
        }
    }

    private static int CompareSequences(float[] logits, GenerationOptions options, int seeds, int length)
    {
        for (int seed = 0; seed < seeds; seed++)
        {
            var expectedRandom = new Random(seed);
            var actualRandom = new Random(seed);
            int[] expected = [.. Enumerable.Range(0, length).Select(_ => FullSortSample(logits, options, expectedRandom))];
            int[] actual = [.. Enumerable.Range(0, length).Select(_ => TokenSampler.Sample(logits, options, actualRandom))];
            Assert.True(expected.SequenceEqual(actual), $"vocabulary {logits.Length}, top-k {options.TopK}, top-p {options.TopP}, temperature {options.Temperature}, seed {seed}: expected [{string.Join(", ", expected)}], sampled [{string.Join(", ", actual)}]");
        }

        return seeds * length;
    }

    /// <summary>The sampler as it was: sort the whole vocabulary by scaled logit (ties by id), then walk it.</summary>
    private static int FullSortSample(float[] logits, GenerationOptions options, Random random)
    {
        int k = options.TopK > 0 ? Math.Min(options.TopK, logits.Length) : logits.Length;
        int[] order = [.. Enumerable.Range(0, logits.Length)];
        float[] scaled = [.. logits.Select(l => l / options.Temperature)];
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
}
