using System.Globalization;
using System.Text;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Indexer.Stores;

namespace T5Gemma2.Rag.Cli.Bench;

/// <summary>
/// Deterministic synthetic passages for store benchmarks: unit vectors around random centres (so HNSW sees clusters)
/// and text from a Zipf vocabulary. Passage i depends only on (seed, i), so a collection written in any batching, or
/// reused from an earlier run, is the same and queries can aim at its clusters. With a Matryoshka cut, every vector is
/// drawn at the full width and its leading components kept, renormalised, so a cut corpus is the prefix of the full one.
/// </summary>
internal sealed class SyntheticCorpus
{
    public const int Centers = 1_000;
    public const int Vocabulary = 50_000;
    public const double Noise = 1.0;
    public const int MinWords = 12;
    public const int MaxWords = 60;
    private const int PassagesPerDocument = 10;
    private static readonly DateTimeOffset s_indexedAt = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly float[][] _centers;
    private readonly string[] _words;
    private readonly double[] _zipf;

    private readonly int _fullDimensions;

    /// <param name="cut">Keep the leading <paramref name="cut"/> components of each <paramref name="dimensions"/>-wide vector, renormalised; null keeps them all.</param>
    public SyntheticCorpus(int dimensions, int seed, int? cut = null)
    {
        this._fullDimensions = dimensions;
        this.Dimensions = cut ?? dimensions;
        this.Seed = seed;
        var random = new Random(seed);
        this._centers = [.. Enumerable.Range(0, Centers).Select(_ => Gaussian(random, new float[dimensions], 1.0))];
        this._cut = cut;
        this._words = MakeVocabulary(random);

        // Zipf (s = 1): word r is drawn with probability ∝ 1 / r; a cumulative table for binary search.
        this._zipf = new double[Vocabulary];
        double sum = 0;
        for (int r = 0; r < Vocabulary; r++)
        {
            sum += 1.0 / (r + 1);
            this._zipf[r] = sum;
        }

        for (int r = 0; r < Vocabulary; r++)
        {
            this._zipf[r] /= sum;
        }
    }

    private readonly int? _cut;

    public int Dimensions { get; }

    public int Seed { get; }

    /// <summary>Passages [first, first + count) as whole documents of 10 (passage i is chunk i % 10 of document i / 10).</summary>
    public List<DocumentUpdate> Documents(int first, int count)
    {
        var updates = new List<DocumentUpdate>();
        for (int start = first; start < first + count; start += PassagesPerDocument - (start % PassagesPerDocument))
        {
            int document = start / PassagesPerDocument;
            string documentId = string.Create(CultureInfo.InvariantCulture, $"doc-{document:D7}");
            int end = Math.Min(first + count, (document + 1) * PassagesPerDocument);
            var passages = new List<StoredPassage>();
            for (int i = start; i < end; i++)
            {
                passages.Add(this.Passage(i, documentId));
            }

            string hash = PassageIds.ContentHash(string.Join('\n', passages.Select(p => p.Passage.ContentHash)));
            updates.Add(new DocumentUpdate(new DocumentRecord(documentId, "synthetic/" + documentId, hash, passages.Count, s_indexedAt), passages));
        }

        return updates;
    }

    /// <summary>A vector near the centre of a random passage of the collection, and three vocabulary words drawn uniformly (content words, not the Zipf head).</summary>
    public (float[] Vector, string Text) Query(Random random, int size)
    {
        int passage = random.Next(size);
        var vector = Gaussian(random, new float[this._fullDimensions], Noise);
        for (int d = 0; d < vector.Length; d++)
        {
            vector[d] += this._centers[Center(this.Seed, passage)][d];
        }

        return (this.Cut(vector), string.Join(' ', Enumerable.Range(0, 3).Select(_ => this._words[random.Next(Vocabulary)])));
    }

    private StoredPassage Passage(int index, string documentId)
    {
        var random = new Random((int)(Mix((ulong)this.Seed, (ulong)index) & int.MaxValue));
        float[] vector = Gaussian(random, new float[this._fullDimensions], Noise);
        float[] center = this._centers[Center(this.Seed, index)];
        for (int d = 0; d < vector.Length; d++)
        {
            vector[d] += center[d];
        }

        vector = this.Cut(vector);

        int words = random.Next(MinWords, MaxWords + 1);
        var text = new StringBuilder();
        for (int w = 0; w < words; w++)
        {
            text.Append(w == 0 ? string.Empty : " ").Append(this.Word(random));
        }

        string body = text.ToString();
        string hash = PassageIds.ContentHash(body);
        int chunk = index % PassagesPerDocument;
        var passage = new Passage
        {
            Id = PassageIds.Create(documentId, chunk, hash),
            DocumentId = documentId,
            Source = "synthetic/" + documentId,
            Start = chunk * 1_000,
            Length = body.Length,
            ChunkIndex = chunk,
            Text = body,
            ContentHash = hash,
            TokenCount = words,
            IndexedAt = s_indexedAt,
        };
        return new StoredPassage(passage, vector);
    }

    /// <summary>The leading components, renormalised (as an embedding generator's Matryoshka cut), or the vector as it is.</summary>
    private float[] Cut(float[] vector)
    {
        if (this._cut is not int cut)
        {
            return vector;
        }

        var prefix = vector[..cut];
        System.Numerics.Tensors.TensorPrimitives.Divide(prefix, System.Numerics.Tensors.TensorPrimitives.Norm(prefix), prefix);
        return prefix;
    }

    private string Word(Random random)
    {
        int rank = Array.BinarySearch(this._zipf, random.NextDouble());
        return this._words[Math.Min(rank < 0 ? ~rank : rank, Vocabulary - 1)];
    }

    private static int Center(int seed, int passage) => (int)(Mix((ulong)seed ^ 0xC3A5C85C97CB3127UL, (ulong)passage) % Centers);

    /// <summary>SplitMix64 of the two values: a stable hash (string and HashCode hashes change per process).</summary>
    private static ulong Mix(ulong a, ulong b)
    {
        ulong z = (a * 0x9E3779B97F4A7C15UL) + b + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Fills <paramref name="target"/> with N(0, σ²) samples (Box–Muller, both outputs used).</summary>
    private static float[] Gaussian(Random random, float[] target, double sigma)
    {
        for (int i = 0; i < target.Length; i += 2)
        {
            double radius = sigma * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble()));
            double angle = 2 * Math.PI * random.NextDouble();
            target[i] = (float)(radius * Math.Cos(angle));
            if (i + 1 < target.Length)
            {
                target[i + 1] = (float)(radius * Math.Sin(angle));
            }
        }

        return target;
    }

    /// <summary>Distinct pronounceable words of 2–4 consonant-vowel syllables (letters only, so FTS5 keeps each whole).</summary>
    private static string[] MakeVocabulary(Random random)
    {
        const string consonants = "bcdfghjklmnprstvz";
        const string vowels = "aeiou";
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var words = new List<string>(Vocabulary);
        var builder = new StringBuilder();
        while (words.Count < Vocabulary)
        {
            builder.Clear();
            int syllables = random.Next(2, 5);
            for (int s = 0; s < syllables; s++)
            {
                builder.Append(consonants[random.Next(consonants.Length)]).Append(vowels[random.Next(vowels.Length)]);
            }

            if (seen.Add(builder.ToString()))
            {
                words.Add(builder.ToString());
            }
        }

        return [.. words];
    }
}
