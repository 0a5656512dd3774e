using Microsoft.ML.Tokenizers;
using T5Gemma2.Rag.Indexer.Documents;

namespace T5Gemma2.Rag.Indexer.Chunking;

/// <summary>
/// Cuts a document into chunks of at most <see cref="ChunkingOptions.MaxTokens"/> tokens of the embedding model's own
/// tokenizer, cutting at the coarsest structure that fits: sections, then paragraphs, sentences, lines, words, and only
/// inside a single over-long word at token boundaries.
/// </summary>
/// <remarks>
/// <para>Sections are hard boundaries, so every chunk has one exact heading path and page. Inside a section the text is
/// split into units, each counted once (a unit is split further only when it alone exceeds the budget), and consecutive
/// units are packed greedily. Token counts are not additive under BPE and WordPiece (the "\n\n" between paragraphs is a
/// token of its own; a word cut in two can take more tokens than whole), so every chunk is measured on its actual text,
/// and the packing backs off a unit when the measure is over: <see cref="TextChunk.TokenCount"/> ≤ MaxTokens holds
/// exactly. The sums of unit counts only guide which candidates are measured, which keeps the work near-linear.</para>
/// <para>Overlap repeats the end of the previous chunk, aligned to a sentence or word start where one fits, and is
/// counted inside MaxTokens, so MaxTokens is the size that reaches the model. It is what gives way: it shrinks or
/// disappears when the next unit needs the room, and it is capped below half of MaxTokens, so a chunk always has room
/// for more new text than it repeats (Kernel Memory issue #318: there a larger overlap made chunks ever smaller, 200
/// tokens of 1,000 at an overlap of 800).</para>
/// <para>Instances hold no per-document state and are safe to share between threads when the tokenizer is.</para>
/// </remarks>
public sealed class DocumentChunker
{
    // Measuring one more unit than the sums promise costs one count; it is tried when the sums miss by this little.
    private const int ExtendSlack = 2;

    private readonly TokenMeter _meter;
    private readonly int _maxTokens;
    private readonly int _overlapTokens;

    public DocumentChunker(Tokenizer tokenizer, ChunkingOptions options)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(options);
        this.Tokenizer = tokenizer;
        this.Options = options;
        this._meter = new TokenMeter(tokenizer);
        this._maxTokens = options.MaxTokens;
        this._overlapTokens = options.OverlapTokens;
    }

    /// <summary>The tokenizer chunks are counted with: the embedding model's own.</summary>
    public Tokenizer Tokenizer { get; }

    public ChunkingOptions Options { get; }

    /// <summary>Tokens of <paramref name="text"/> as chunks count them: the tokenizer's count without its special tokens.</summary>
    public int CountTokens(ReadOnlySpan<char> text) => this._meter.Count(text);

    /// <summary>All chunks of the document, in text order.</summary>
    /// <exception cref="ArgumentException">The document's sections lie outside its text or out of order.</exception>
    public IReadOnlyList<TextChunk> Chunk(LoadedDocument document) => [.. this.EnumerateChunks(document)];

    /// <summary>The chunks of the document in text order, each section's chunks as soon as they are cut.</summary>
    /// <exception cref="ArgumentException">The document's sections lie outside its text or out of order (thrown at once).</exception>
    public IEnumerable<TextChunk> EnumerateChunks(LoadedDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var sections = Cover(document);
        return this.Enumerate(document.Text, sections);
    }

    /// <summary>
    /// The document's sections, checked, with any uncovered stretch of text added as an untitled section so that no text
    /// is lost to a loader that left a gap.
    /// </summary>
    private static List<DocumentSection> Cover(LoadedDocument document)
    {
        string text = document.Text;
        var covered = new List<DocumentSection>(document.Sections.Count + 1);
        int position = 0;
        foreach (var section in document.Sections)
        {
            if (section.Start < position || section.Length < 0 || section.Start > text.Length - section.Length)
            {
                throw new ArgumentException(
                    $"{document.DocumentId}: section {section} lies outside the text ({text.Length} characters) or before the previous section's end ({position}).",
                    nameof(document));
            }

            if (section.Start > position)
            {
                covered.Add(new DocumentSection(position, section.Start - position));
            }

            covered.Add(section);
            position = section.Start + section.Length;
        }

        if (position < text.Length)
        {
            covered.Add(new DocumentSection(position, text.Length - position));
        }

        return covered;
    }

    private IEnumerable<TextChunk> Enumerate(string text, List<DocumentSection> sections)
    {
        var units = new List<Unit>();
        var pieces = new List<(int Start, int End)>();
        var gapCosts = new Dictionary<string, int>(StringComparer.Ordinal);
        var chunks = new List<TextChunk>();
        int index = 0;
        foreach (var section in sections)
        {
            units.Clear();
            pieces.Clear();
            TextStructure.Split(text, section.Start, section.Start + section.Length, TextStructure.Level.Paragraph, pieces);
            foreach (var (start, end) in pieces)
            {
                this.AddUnits(text, start, end, TextStructure.Level.Sentence, units);
            }

            chunks.Clear();
            this.Pack(text, units, section, gapCosts, chunks, ref index);
            foreach (var chunk in chunks)
            {
                yield return chunk;
            }
        }
    }

    /// <summary>
    /// Adds text[start..end) as one unit when it fits the budget, else its pieces at <paramref name="level"/> (or the
    /// first finer level that splits it), each treated the same way one level down; a single word that still does not
    /// fit is cut at token boundaries.
    /// </summary>
    private void AddUnits(string text, int start, int end, TextStructure.Level level, List<Unit> units)
    {
        var (tokens, charsPerToken) = this.CountOrOver(text, start, end);
        if (tokens <= this._maxTokens)
        {
            units.Add(new Unit(start, end, tokens));
            return;
        }

        var pieces = new List<(int Start, int End)>();
        for (var l = level; l <= TextStructure.Level.Word; l++)
        {
            pieces.Clear();
            TextStructure.Split(text, start, end, l, pieces);
            if (pieces.Count > 1)
            {
                foreach (var (pieceStart, pieceEnd) in pieces)
                {
                    this.AddUnits(text, pieceStart, pieceEnd, l < TextStructure.Level.Word ? l + 1 : l, units);
                }

                return;
            }
        }

        // One word (no whitespace inside) over the budget: base64, a URL, CJK or Thai without spaces. Its pieces leave
        // room for the overlap, since a cut there falls anywhere and the repeated tokens are what keep the context.
        int pieceBudget = this._maxTokens - this._overlapTokens;
        for (int position = start; position < end;)
        {
            var (cut, pieceTokens) = this._meter.FitPrefix(text, position, end, pieceBudget, charsPerToken);
            units.Add(new Unit(position, cut, pieceTokens));
            position = cut;
        }
    }

    /// <summary>
    /// The tokens of text[start..end) when they fit the budget; for a long span whose head alone is over, the head's
    /// count instead (still over the budget). BPE cost grows faster than linearly inside one long word (a 5 MB base64
    /// line would take minutes to count whole), and the exact count of a span that gets split is never needed.
    /// </summary>
    private (int Tokens, double CharsPerToken) CountOrOver(string text, int start, int end)
    {
        int probe = Math.Max(4_096, this._maxTokens * 16);
        if (end - start > probe)
        {
            int headEnd = start + probe;
            if (char.IsLowSurrogate(text[headEnd]) && char.IsHighSurrogate(text[headEnd - 1]))
            {
                headEnd--;
            }

            int head = this._meter.Count(text, start, headEnd);
            if (head > this._maxTokens)
            {
                return (head, (headEnd - start) / (double)head);
            }
        }

        int tokens = this._meter.Count(text, start, end);
        return (tokens, (end - start) / (double)Math.Max(1, tokens));
    }

    /// <summary>Packs a section's units greedily into chunks, each measured, with overlap from the previous chunk.</summary>
    private void Pack(string text, List<Unit> units, DocumentSection section, Dictionary<string, int> gapCosts, List<TextChunk> chunks, ref int index)
    {
        int previousStart = -1, previousEnd = -1, previousTokens = 0;
        for (int first = 0; first < units.Count;)
        {
            int gap = first > 0 ? this.GapCost(text, units[first - 1].End, units[first].Start, gapCosts) : 0;
            int overlapBudget = previousEnd < 0 ? 0 : Math.Min(this._overlapTokens, this._maxTokens - units[first].Tokens - gap);
            int last, tokens, chunkStart;
            while (true)
            {
                var (overlapStart, overlapTokens) = overlapBudget > 0
                    ? this.FindOverlap(text, previousStart, previousEnd, previousTokens, overlapBudget)
                    : (-1, 0);
                chunkStart = overlapStart >= 0 ? overlapStart : units[first].Start;
                int estimate = overlapStart >= 0 ? overlapTokens + gap : 0;
                (last, tokens) = this.PackFrom(text, units, chunkStart, first, estimate, gapCosts);
                if (last >= first)
                {
                    break;
                }

                if (overlapStart < 0)
                {
                    // Only a single code point over the budget gets here (MaxTokens below its byte tokens): it goes alone.
                    (last, tokens) = (first, units[first].Tokens);
                    break;
                }

                // The overlap left too little room for the next unit once measured together: repeat less (a unit alone always fits).
                overlapBudget /= 2;
            }

            int chunkEnd = units[last].End;
            chunks.Add(new TextChunk(chunkStart, chunkEnd - chunkStart, section.HeadingPath, section.Page, tokens, index++));
            (previousStart, previousEnd, previousTokens) = (chunkStart, chunkEnd, tokens);
            first = last + 1;
        }
    }

    /// <summary>
    /// The last unit of the chunk that starts at <paramref name="chunkStart"/> and holds units from
    /// <paramref name="first"/> on, with its measured tokens; −1 when even the first unit does not fit after the overlap.
    /// </summary>
    /// <param name="estimate">Estimated tokens before the first unit (the overlap and the gap after it).</param>
    private (int Last, int Tokens) PackFrom(string text, List<Unit> units, int chunkStart, int first, int estimate, Dictionary<string, int> gapCosts)
    {
        // The sums of unit counts (gaps included) pick the candidate; measuring decides.
        estimate += units[first].Tokens;
        int candidate = first;
        while (candidate + 1 < units.Count)
        {
            int next = estimate + this.GapCost(text, units[candidate].End, units[candidate + 1].Start, gapCosts) + units[candidate + 1].Tokens;
            if (next > this._maxTokens)
            {
                break;
            }

            estimate = next;
            candidate++;
        }

        int measured = this.Measure(text, chunkStart, units[candidate].End);
        int low, lowTokens, high;
        if (measured <= this._maxTokens)
        {
            // The sums can overestimate (a space between words costs nothing inside "▁word"): try more while it may fit.
            (low, lowTokens) = (candidate, measured);
            high = units.Count;
            for (int step = 1; low + 1 < units.Count && lowTokens + units[low + 1].Tokens <= this._maxTokens + ExtendSlack; step *= 2)
            {
                int probe = Math.Min(units.Count - 1, low + step);
                int probeTokens = this.Measure(text, chunkStart, units[probe].End);
                if (probeTokens > this._maxTokens)
                {
                    high = probe;
                    break;
                }

                (low, lowTokens) = (probe, probeTokens);
            }

            if (high == units.Count)
            {
                return (low, lowTokens);
            }
        }
        else
        {
            (low, lowTokens, high) = (first - 1, 0, candidate);
        }

        // Largest fitting last unit in (low, high): low fits (or is before first), high does not.
        while (high - low > 1)
        {
            int middle = low + ((high - low) / 2);
            int middleTokens = this.Measure(text, chunkStart, units[middle].End);
            if (middleTokens <= this._maxTokens)
            {
                (low, lowTokens) = (middle, middleTokens);
            }
            else
            {
                high = middle;
            }
        }

        return low >= first ? (low, lowTokens) : (-1, 0);
    }

    /// <summary>
    /// Where the overlap taken from the end of the previous chunk starts, and its tokens: the longest suffix within the
    /// budget that starts at a word (a sentence or line start when that keeps at least half of it), else at a token
    /// boundary; (−1, 0) when nothing fits. Never the whole previous chunk, so the next chunk always adds text.
    /// </summary>
    private (int Start, int Tokens) FindOverlap(string text, int previousStart, int previousEnd, int previousTokens, int budget)
    {
        // Word starts from the end backwards; each word is at least one token, so budget + 1 of them bound the search.
        var starts = new List<int>();
        for (int i = previousEnd - 1; i > previousStart && starts.Count <= budget; i--)
        {
            if (!char.IsWhiteSpace(text[i]) && char.IsWhiteSpace(text[i - 1]))
            {
                starts.Add(i);
            }
        }

        // Largest k whose suffix fits (counts grow with k).
        int best = -1, bestTokens = 0, low = -1, high = starts.Count;
        while (high - low > 1)
        {
            int middle = low + ((high - low) / 2);
            int tokens = this.Measure(text, starts[middle], previousEnd);
            if (tokens <= budget)
            {
                (low, best, bestTokens) = (middle, starts[middle], tokens);
            }
            else
            {
                high = middle;
            }
        }

        if (best >= 0)
        {
            // Prefer the longest suffix that starts a sentence, when it keeps at least half of the word-aligned one.
            for (int k = low; k >= 0 && previousEnd - starts[k] >= (previousEnd - best) / 2; k--)
            {
                if (TextStructure.StartsSentence(text, starts[k], previousStart))
                {
                    if (k == low)
                    {
                        break;
                    }

                    int tokens = this.Measure(text, starts[k], previousEnd);
                    if (tokens <= budget)
                    {
                        return (starts[k], tokens);
                    }

                    break;
                }
            }

            return (best, bestTokens);
        }

        // No word fits (the last word is long, or the text has no spaces): cut at a token boundary inside the last word.
        int lowest = starts.Count > 0 ? starts[0] : previousStart + 1;
        double charsPerToken = (previousEnd - previousStart) / (double)Math.Max(1, previousTokens);
        var (start, suffixTokens) = this._meter.FitSuffix(text, lowest, previousEnd, budget, charsPerToken);
        var (trimmed, _) = TextStructure.Trim(text, start, previousEnd);
        int trimmedTokens = trimmed == start ? suffixTokens : this.Measure(text, trimmed, previousEnd);
        return trimmed < previousEnd && trimmedTokens <= budget ? (trimmed, trimmedTokens) : (-1, 0);
    }

    /// <summary>Estimated tokens of the whitespace between two units: what it costs standing alone (cached; it is mostly " ", "\n" or "\n\n").</summary>
    private int GapCost(string text, int start, int end, Dictionary<string, int> gapCosts)
    {
        int length = end - start;
        if (length <= 0)
        {
            return 0;
        }

        if (length > 32)
        {
            return this._meter.Count(text, start, end);
        }

        var lookup = gapCosts.GetAlternateLookup<ReadOnlySpan<char>>();
        var gap = text.AsSpan(start, length);
        if (!lookup.TryGetValue(gap, out int cost))
        {
            cost = this._meter.Count(gap);
            lookup[gap] = cost;
        }

        return cost;
    }

    private int Measure(string text, int start, int end) => this._meter.Count(text, start, end);

    /// <summary>A piece of a section that fits the budget on its own: text[Start..End), trimmed, with its own token count.</summary>
    private readonly record struct Unit(int Start, int End, int Tokens);
}
