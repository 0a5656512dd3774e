using System.Text;
using System.Text.RegularExpressions;

namespace T5Gemma2.Rag.Indexer.Stores.Embedded;

/// <summary>
/// Turns free text into an FTS5 query: every word quoted (so FTS5 syntax in user text — quotes, AND, NEAR, '-', '*' —
/// is never interpreted) and the words joined by OR, which makes FTS5's bm25() rank like plain BM25.
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
        foreach (Match match in Words().Matches(text))
        {
            string term = match.Value.ToLowerInvariant();
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
