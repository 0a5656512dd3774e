namespace T5Gemma2.Rag.Indexer.Chunking;

/// <summary>
/// The structure a chunk boundary prefers, coarsest first: blank-line paragraphs, sentences, lines, whitespace-separated
/// words. Deliberately simple and language-tolerant (no abbreviation lists): a wrong sentence cut only costs a little
/// coherence, while the token budget is what has to be exact.
/// </summary>
internal static class TextStructure
{
    public enum Level
    {
        Paragraph,
        Sentence,
        Line,
        Word,
    }

    /// <summary>Splits text[start..end) at <paramref name="level"/>, adding the pieces, trimmed and non-empty, in order.</summary>
    public static void Split(string text, int start, int end, Level level, List<(int Start, int End)> pieces)
    {
        switch (level)
        {
            case Level.Paragraph:
                SplitParagraphs(text, start, end, pieces);
                break;
            case Level.Sentence:
                SplitSentences(text, start, end, pieces);
                break;
            case Level.Line:
                SplitLines(text, start, end, pieces);
                break;
            default:
                SplitWords(text, start, end, pieces);
                break;
        }
    }

    /// <summary>The span without its leading and trailing whitespace (empty when all of it is whitespace).</summary>
    public static (int Start, int End) Trim(string text, int start, int end)
    {
        while (start < end && char.IsWhiteSpace(text[start]))
        {
            start++;
        }

        while (end > start && char.IsWhiteSpace(text[end - 1]))
        {
            end--;
        }

        return (start, end);
    }

    /// <summary>
    /// Whether a word starting at <paramref name="position"/> also starts a line or a sentence: the text before it,
    /// past the whitespace, is a line break or a sentence end. Used to align overlap to a sentence where one fits.
    /// </summary>
    public static bool StartsSentence(string text, int position, int floor)
    {
        int i = position - 1;
        while (i >= floor && char.IsWhiteSpace(text[i]))
        {
            if (text[i] == '\n')
            {
                return true;
            }

            i--;
        }

        if (i < floor || i == position - 1)
        {
            return false;
        }

        while (i >= floor && IsCloser(text[i]))
        {
            i--;
        }

        return i >= floor && (IsTerminator(text[i]) || IsWideTerminator(text[i]));
    }

    private static void SplitParagraphs(string text, int start, int end, List<(int Start, int End)> pieces)
    {
        // A paragraph is a run of lines that are not blank; whitespace-only lines separate them.
        int paragraphStart = -1, lineStart = start;
        while (lineStart < end)
        {
            int newline = text.IndexOf('\n', lineStart, end - lineStart);
            int lineEnd = newline < 0 ? end : newline;
            bool blank = text.AsSpan(lineStart, lineEnd - lineStart).IsWhiteSpace();
            if (blank && paragraphStart >= 0)
            {
                AddTrimmed(text, paragraphStart, lineStart, pieces);
                paragraphStart = -1;
            }
            else if (!blank && paragraphStart < 0)
            {
                paragraphStart = lineStart;
            }

            lineStart = lineEnd + 1;
        }

        if (paragraphStart >= 0)
        {
            AddTrimmed(text, paragraphStart, end, pieces);
        }
    }

    private static void SplitSentences(string text, int start, int end, List<(int Start, int End)> pieces)
    {
        int sentenceStart = start;
        for (int i = start; i < end; i++)
        {
            char c = text[i];
            bool terminator = IsTerminator(c), wide = IsWideTerminator(c);
            if (!terminator && !wide)
            {
                continue;
            }

            int after = i + 1;
            while (after < end && (IsCloser(text[after]) || IsTerminator(text[after]) || IsWideTerminator(text[after])))
            {
                after++;
            }

            // ". " ends a sentence; "3.14", "e.g.x" and "file.txt" do not. CJK full stops need no space after them.
            if (wide || after == end || char.IsWhiteSpace(text[after]))
            {
                AddTrimmed(text, sentenceStart, after, pieces);
                sentenceStart = after;
            }

            i = after - 1;
        }

        AddTrimmed(text, sentenceStart, end, pieces);
    }

    private static void SplitLines(string text, int start, int end, List<(int Start, int End)> pieces)
    {
        int lineStart = start;
        while (lineStart < end)
        {
            int newline = text.IndexOf('\n', lineStart, end - lineStart);
            int lineEnd = newline < 0 ? end : newline;
            AddTrimmed(text, lineStart, lineEnd, pieces);
            lineStart = lineEnd + 1;
        }
    }

    private static void SplitWords(string text, int start, int end, List<(int Start, int End)> pieces)
    {
        int i = start;
        while (i < end)
        {
            while (i < end && char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            int wordStart = i;
            while (i < end && !char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            if (i > wordStart)
            {
                pieces.Add((wordStart, i));
            }
        }
    }

    private static void AddTrimmed(string text, int start, int end, List<(int Start, int End)> pieces)
    {
        var (trimmedStart, trimmedEnd) = Trim(text, start, end);
        if (trimmedEnd > trimmedStart)
        {
            pieces.Add((trimmedStart, trimmedEnd));
        }
    }

    private static bool IsTerminator(char c) => c is '.' or '!' or '?';

    // Full-width terminators of Chinese and Japanese, written without a following space.
    private static bool IsWideTerminator(char c) => c is '。' or '！' or '？' or '｡';

    private static bool IsCloser(char c) => c is '"' or '\'' or ')' or ']' or '}' or '»' or '”' or '’' or '」' or '』' or '）' or '】';
}
