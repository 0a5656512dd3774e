using System.Collections.Frozen;
using System.Text;
using System.Text.RegularExpressions;

namespace T5Gemma2.Rag.Indexer.Stores.Qdrant;

/// <summary>
/// BM25 as sparse vectors, compatible with fastembed's <c>Qdrant/bm25</c> (fastembed/sparse/bm25.py) and Qdrant's
/// server-side BM25: the collection's sparse vector uses the IDF modifier, so the server supplies IDF and the client
/// only the term-frequency part. Same steps, same order: lower-case; every character that is not a word character
/// (Python's <c>\w</c>: letters, numbers, underscore) splits; English stopwords (NLTK's list, as the model ships)
/// dropped before stemming; tokens over 40 characters dropped; Snowball English stems (<see cref="Porter2Stemmer"/>);
/// token id = |MurmurHash3_x86_32(UTF-8 stem, seed 0)| read as a signed int, as <c>abs(mmh3.hash(token))</c>.
/// </summary>
/// <remarks>
/// Deviations, all outside plain English text: lower-casing is .NET's invariant simple mapping with two of Python's
/// full-mapping cases added by hand (U+0130 'İ' becomes "i" + combining dot, which then splits as in Python; a final
/// capital sigma after a letter becomes 'ς'); other context-dependent or multi-character lower-case mappings are not
/// reproduced, and Unicode tables follow .NET's version rather than Python's.
/// </remarks>
public sealed partial class Bm25SparseEncoder
{
    /// <summary>fastembed's name of the model this reproduces.</summary>
    public const string ModelName = "Qdrant/bm25";

    /// <summary>fastembed's <c>token_max_length</c>: longer tokens (in code points) are dropped.</summary>
    public const int MaxTokenLength = 40;

    /// <param name="k1">Term-frequency saturation (fastembed's k).</param>
    /// <param name="b">Length normalization.</param>
    /// <param name="averageLength">The assumed mean document length in tokens (fastembed does not measure the corpus either).</param>
    public Bm25SparseEncoder(double k1 = 1.2, double b = 0.75, double averageLength = 256)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k1);
        if (b is < 0 or > 1 or double.NaN)
        {
            throw new ArgumentOutOfRangeException(nameof(b), b, "b must be within [0, 1].");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(averageLength);
        this.K1 = k1;
        this.B = b;
        this.AverageLength = averageLength;
    }

    /// <summary>fastembed's defaults: k1 = 1.2, b = 0.75, average length 256.</summary>
    public static Bm25SparseEncoder Default { get; } = new();

    public double K1 { get; }

    public double B { get; }

    public double AverageLength { get; }

    /// <summary>The sparse index of one token: |MurmurHash3_x86_32(UTF-8, seed 0)| as a signed 32-bit value (|int.MinValue| is 2³¹).</summary>
    public static uint TokenId(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        int maxBytes = Encoding.UTF8.GetMaxByteCount(token.Length);
        Span<byte> buffer = maxBytes <= 256 ? stackalloc byte[maxBytes] : new byte[maxBytes];
        int written = Encoding.UTF8.GetBytes(token, buffer);
        int signed = unchecked((int)MurmurHash3.X86_32(buffer[..written]));
        return signed == int.MinValue ? 1u << 31 : (uint)Math.Abs(signed);
    }

    /// <summary>The text's stems in order, stopwords and over-long tokens dropped: what both vectors are built from.</summary>
    public IReadOnlyList<string> Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var stems = new List<string>();
        foreach (Match match in WordCharacters().Matches(Lower(text)))
        {
            string token = match.Value;
            if (EnglishStopwords.Contains(token) || CodePoints(token) > MaxTokenLength)
            {
                continue;
            }

            string stem = Porter2Stemmer.Stem(token);
            if (stem.Length > 0)
            {
                stems.Add(stem);
            }
        }

        return stems;
    }

    /// <summary>
    /// A document's vector: for each distinct stem, tf·(k1 + 1) / (tf + k1·(1 − b + b·len / avg_len)), len counting
    /// the stems kept. Qdrant multiplies by IDF at search time.
    /// </summary>
    public Bm25Vector EncodeDocument(string text)
    {
        var tokens = this.Tokenize(text);
        var counts = new Dictionary<uint, int>();
        foreach (string token in tokens)
        {
            uint id = TokenId(token);
            counts[id] = counts.GetValueOrDefault(id) + 1;
        }

        double norm = this.K1 * (1 - this.B + (this.B * tokens.Count / this.AverageLength));
        uint[] indices = [.. counts.Keys.Order()];
        float[] values = [.. indices.Select(id => (float)(counts[id] * (this.K1 + 1) / (counts[id] + norm)))];
        return new Bm25Vector(indices, values);
    }

    /// <summary>A query's vector: weight 1 for each distinct stem (its IDF then weighs it, as in BM25).</summary>
    public Bm25Vector EncodeQuery(string text)
    {
        uint[] indices = [.. this.Tokenize(text).Select(TokenId).Distinct().Order()];
        return new Bm25Vector(indices, [.. indices.Select(_ => 1f)]);
    }

    /// <summary>Python's str.lower() for the cases that change how the text splits or hashes; the rest is .NET's invariant mapping.</summary>
    private static string Lower(string text)
    {
        string lower = text.ToLowerInvariant();
        if (!text.Contains('\u0130', StringComparison.Ordinal) && !text.Contains('Σ', StringComparison.Ordinal))
        {
            return lower;
        }

        var builder = new StringBuilder(lower.Length + 4);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\u0130')
            {
                builder.Append("i\u0307");
            }
            else if (c == 'Σ' && i > 0 && char.IsLetter(text[i - 1]) && (i + 1 == text.Length || !char.IsLetter(text[i + 1])))
            {
                builder.Append('ς');
            }
            else
            {
                builder.Append(lower[i]);
            }
        }

        return builder.ToString();
    }

    private static int CodePoints(string token)
    {
        int surrogates = 0;
        foreach (char c in token)
        {
            if (char.IsLowSurrogate(c))
            {
                surrogates++;
            }
        }

        return token.Length - surrogates;
    }

    // Python's \w on str: letters (L*), numbers (N*) and underscore; combining marks are not word characters there.
    [GeneratedRegex(@"[\p{L}\p{N}_]+", RegexOptions.CultureInvariant)]
    private static partial Regex WordCharacters();
}
