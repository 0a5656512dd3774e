using T5Gemma2.Rag.Indexer.Documents;

namespace T5Gemma2.Rag.Indexer.Loading;

/// <summary>
/// Builds <see cref="DocumentSection"/>s from the positions where headings (or pages) start, so every loader's sections
/// cover the text in order without gaps or overlaps: each section runs to where the next one starts, text before the
/// first heading is an untitled section, and empty sections are dropped. Also keeps the heading chain for paths.
/// </summary>
internal sealed class SectionListBuilder
{
    private readonly List<(int Start, string? HeadingPath, int? Page)> _starts = [(0, null, null)];
    private readonly List<(int Level, string Text)> _headings = [];

    /// <summary>The current chain of headings joined by " > ", or null before the first heading.</summary>
    public string? HeadingPath => this._headings.Count == 0 ? null : string.Join(" > ", this._headings.Select(h => h.Text));

    /// <summary>
    /// Records a heading of <paramref name="level"/> (lower is outer) starting a section at <paramref name="start"/>:
    /// headings at the same or a deeper level leave the chain first.
    /// </summary>
    public void Heading(int start, int level, string text)
    {
        while (this._headings.Count > 0 && this._headings[^1].Level >= level)
        {
            this._headings.RemoveAt(this._headings.Count - 1);
        }

        this._headings.Add((level, text));
        this.Start(start, this.HeadingPath);
    }

    /// <summary>Starts a section at <paramref name="start"/> (not before the previous start).</summary>
    public void Start(int start, string? headingPath, int? page = null)
    {
        var last = this._starts[^1];
        if (start < last.Start)
        {
            throw new ArgumentOutOfRangeException(nameof(start), start, $"sections must start in order (previous at {last.Start})");
        }

        if (start == last.Start)
        {
            this._starts[^1] = (start, headingPath, page); // the previous one would be empty
        }
        else
        {
            this._starts.Add((start, headingPath, page));
        }
    }

    /// <summary>The sections over a text of <paramref name="textLength"/> characters (none for an empty text).</summary>
    public IReadOnlyList<DocumentSection> Build(int textLength)
    {
        var sections = new List<DocumentSection>(this._starts.Count);
        for (int i = 0; i < this._starts.Count; i++)
        {
            var (start, path, page) = this._starts[i];
            int end = i + 1 < this._starts.Count ? this._starts[i + 1].Start : textLength;
            if (start > textLength)
            {
                throw new ArgumentOutOfRangeException(nameof(textLength), textLength, $"a section starts at {start}, past the end");
            }

            if (end > start)
            {
                sections.Add(new DocumentSection(start, end - start, path, page));
            }
        }

        return sections;
    }
}
