using Microsoft.ML.Tokenizers;

namespace T5Gemma2.Rag.Indexer.Chunking;

/// <summary>
/// Counts a model tokenizer's tokens without its special tokens, and finds the longest prefix or suffix of a span that
/// fits a token budget, cutting at the tokenizer's own token boundaries where its offsets allow.
/// </summary>
/// <remarks>
/// Tokenizers differ in what a plain count includes (Gemma adds bos, ML.Tokenizers' BertTokenizer counts no [CLS]/[SEP]),
/// so the count of the empty string is measured once and subtracted. Every cut is verified by counting the piece it
/// produces: BPE and WordPiece counts of a cut piece need not equal the tokens it had inside the longer text.
/// </remarks>
internal sealed class TokenMeter
{
    // Offsets that are off by a few characters (a normalizer that changed characters but not the length) are retried
    // this many times before falling back to a binary search on characters.
    private const int OffsetRetries = 8;

    private readonly Tokenizer _tokenizer;
    private readonly int _overhead;

    public TokenMeter(Tokenizer tokenizer)
    {
        this._tokenizer = tokenizer;
        this._overhead = tokenizer.CountTokens(ReadOnlySpan<char>.Empty, considerPreTokenization: true, considerNormalization: true);
    }

    /// <summary>Tokens of <paramref name="text"/>, special tokens excluded.</summary>
    public int Count(ReadOnlySpan<char> text) =>
        text.IsEmpty ? 0 : this._tokenizer.CountTokens(text, considerPreTokenization: true, considerNormalization: true) - this._overhead;

    public int Count(string text, int start, int end) => this.Count(text.AsSpan(start, end - start));

    /// <summary>
    /// The longest prefix of text[start..end) with at most <paramref name="budget"/> tokens, ending at a token boundary
    /// where the tokenizer reports usable offsets. Never cuts a surrogate pair apart, and always takes at least one code
    /// point, so that callers make progress.
    /// </summary>
    /// <param name="charsPerToken">How long a token of this text is on average: sizes the window that is tokenized,
    /// so that a long run costs time in proportion to the pieces cut from it, not to the rest of the run.</param>
    public (int End, int Tokens) FitPrefix(string text, int start, int end, int budget, double charsPerToken)
    {
        int window = InitialWindow(budget, charsPerToken, end - start);
        while (true)
        {
            int windowEnd = SnapToCodePoint(text, start + window, start);
            var span = text.AsSpan(start, windowEnd - start);
            var offsets = this.TextTokenOffsets(span);
            if (offsets is not null)
            {
                if (offsets.Count <= budget && windowEnd < end)
                {
                    window = Grow(window, end - start);
                    continue;
                }

                // The first token that does not fit starts the cut; back off a token at a time while the piece measures over.
                int previousCut = -1;
                for (int k = Math.Min(budget, offsets.Count), tries = 0; k > 0 && tries < OffsetRetries; k--)
                {
                    int cut = k == offsets.Count ? windowEnd : SnapToCodePoint(text, start + Math.Min(offsets[k].Start.Value, span.Length), start);
                    if (cut <= start || cut == previousCut)
                    {
                        continue;
                    }

                    previousCut = cut;
                    tries++;
                    int tokens = this.Count(text, start, cut);
                    if (tokens <= budget)
                    {
                        return (cut, tokens);
                    }
                }
            }
            else
            {
                int tokens = this.Count(span);
                if (tokens <= budget)
                {
                    if (windowEnd == end)
                    {
                        return (end, tokens);
                    }

                    window = Grow(window, end - start);
                    continue;
                }
            }

            return this.SearchPrefix(text, start, windowEnd, budget);
        }
    }

    /// <summary>
    /// The longest suffix of text[lowest..end) with at most <paramref name="budget"/> tokens, starting at a token
    /// boundary where the tokenizer reports usable offsets; its start is <paramref name="end"/> when nothing fits.
    /// </summary>
    public (int Start, int Tokens) FitSuffix(string text, int lowest, int end, int budget, double charsPerToken)
    {
        if (budget <= 0 || lowest >= end)
        {
            return (end, 0);
        }

        int window = InitialWindow(budget, charsPerToken, end - lowest);
        while (true)
        {
            int windowStart = SnapToCodePoint(text, end - window, lowest);
            var span = text.AsSpan(windowStart, end - windowStart);
            var offsets = this.TextTokenOffsets(span);
            if (offsets is not null)
            {
                if (offsets.Count <= budget && windowStart > lowest)
                {
                    window = Grow(window, end - lowest);
                    continue;
                }

                // The window's first token may be a fragment of a longer one, so the suffix starts after it unless the window is the whole range.
                int previousStart = -1;
                for (int k = Math.Max(offsets.Count - budget, windowStart == lowest ? 0 : 1), tries = 0; k < offsets.Count && tries < OffsetRetries; k++)
                {
                    int start = SnapToCodePoint(text, windowStart + Math.Min(offsets[k].Start.Value, span.Length), windowStart);
                    if (start == previousStart || start >= end)
                    {
                        continue;
                    }

                    previousStart = start;
                    tries++;
                    int tokens = this.Count(text, start, end);
                    if (tokens <= budget)
                    {
                        return (start, tokens);
                    }
                }
            }
            else
            {
                int tokens = this.Count(span);
                if (tokens <= budget)
                {
                    if (windowStart == lowest)
                    {
                        return (lowest, tokens);
                    }

                    window = Grow(window, end - lowest);
                    continue;
                }
            }

            return this.SearchSuffix(text, windowStart, end, budget);
        }
    }

    /// <summary>
    /// Offsets of the tokens of <paramref name="span"/> in the span's own coordinates, specials left out, or null where
    /// the tokenizer's normalizer changed the text's length (BERT's spaces around CJK characters), so that its offsets
    /// point into another string.
    /// </summary>
    private List<Range>? TextTokenOffsets(ReadOnlySpan<char> span)
    {
        var tokens = this._tokenizer.EncodeToTokens(span, out string? normalized, considerPreTokenization: true, considerNormalization: true);
        if (normalized is not null && normalized.Length != span.Length)
        {
            return null;
        }

        var offsets = new List<Range>(tokens.Count);
        int previousStart = -1;
        foreach (var token in tokens)
        {
            // Special tokens have empty ranges; the byte tokens of one character share its range and cannot be cut apart.
            int tokenStart = token.Offset.Start.Value;
            if (token.Offset.End.Value > tokenStart && tokenStart != previousStart)
            {
                offsets.Add(token.Offset);
                previousStart = tokenStart;
            }
        }

        return offsets;
    }

    /// <summary>Binary search on code point boundaries in (start, limit]; text[start..limit) is known not to fit.</summary>
    private (int End, int Tokens) SearchPrefix(string text, int start, int limit, int budget)
    {
        int low = start, lowTokens = 0, high = limit;
        while (high - low > 1)
        {
            int middle = SnapToCodePoint(text, low + ((high - low) / 2), low);
            if (middle <= low)
            {
                break;
            }

            int tokens = this.Count(text, start, middle);
            if (tokens <= budget)
            {
                (low, lowTokens) = (middle, tokens);
            }
            else
            {
                high = middle;
            }
        }

        if (low > start)
        {
            return (low, lowTokens);
        }

        // Not even one code point fits the budget: take it anyway so that the caller makes progress.
        int one = start + (char.IsHighSurrogate(text[start]) && start + 1 < text.Length && char.IsLowSurrogate(text[start + 1]) ? 2 : 1);
        return (one, this.Count(text, start, one));
    }

    /// <summary>Binary search on code point boundaries in [lowest, end); text[lowest..end) is known not to fit.</summary>
    private (int Start, int Tokens) SearchSuffix(string text, int lowest, int end, int budget)
    {
        int low = lowest, high = end, highTokens = 0;
        while (high - low > 1)
        {
            int middle = SnapToCodePoint(text, low + ((high - low + 1) / 2), low);
            if (middle <= low)
            {
                break;
            }

            int tokens = this.Count(text, middle, end);
            if (tokens <= budget)
            {
                (high, highTokens) = (middle, tokens);
            }
            else
            {
                low = middle;
            }
        }

        return (high, highTokens);
    }

    private static int InitialWindow(int budget, double charsPerToken, int available)
    {
        double estimate = Math.Ceiling(budget * Math.Clamp(charsPerToken, 1, 64) * 1.25) + 16;
        return (int)Math.Min(available, estimate);
    }

    private static int Grow(int window, int available) => (int)Math.Min(available, (long)window * 2);

    /// <summary>Moves a position that falls inside a surrogate pair back to the pair's start, but not below <paramref name="floor"/>.</summary>
    private static int SnapToCodePoint(string text, int position, int floor)
    {
        if (position > floor && position < text.Length && char.IsLowSurrogate(text[position]) && char.IsHighSurrogate(text[position - 1]))
        {
            position--;
        }

        return position;
    }
}
