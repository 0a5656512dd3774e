using System.Text;
using System.Text.RegularExpressions;

namespace T5Gemma2.Rag.Indexer.Stores.Embedded;

/// <summary>
/// Turns free text into an FTS5 query: every word quoted (so FTS5 syntax in user text — quotes, AND, NEAR, '-', '*' —
/// is never interpreted) and the words joined by OR, which makes FTS5's bm25() rank like plain BM25. English stopwords
/// are left out unless the query has nothing else (<see cref="EnglishStopwords"/>).
/// </summary>
internal static partial class KeywordQuery
{
    private const int MaxTerms = 64;

    /// <summary>The FTS5 MATCH expression, or null when the text has no words.</summary>
    public static string? ToFts5(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var terms = new HashSet<string>(StringComparer.Ordinal);
        var builder = new StringBuilder();
        var words = Words().Matches(text).Select(m => m.Value.ToLowerInvariant()).ToList();
        bool onlyStopwords = words.All(EnglishStopwords.Contains);
        foreach (string term in words.Where(w => onlyStopwords || !EnglishStopwords.Contains(w)))
        {
            if (terms.Count == MaxTerms || !terms.Add(term))
            {
                continue;
            }

            if (builder.Length > 0)
            {
                builder.Append(" OR ");
            }

            builder.Append('"').Append(term).Append('"');
        }

        return builder.Length == 0 ? null : builder.ToString();
    }

    // The characters unicode61 keeps in tokens: letters, digits and marks.
    [GeneratedRegex(@"[\p{L}\p{N}\p{M}]+")]
    private static partial Regex Words();
}
