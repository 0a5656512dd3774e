namespace T5Gemma2.Rag.Indexer.Documents;

/// <summary>A document as a loader read it: plain text plus the structure (sections, pages) that chunking keeps.</summary>
public sealed class LoadedDocument
{
    /// <summary>Stable id: the path relative to the indexed root ('/' separators), or for a record file the path and the record's id.</summary>
    public required string DocumentId { get; init; }

    /// <summary>Where the document came from: a full path or a URI, shown in search results and citations.</summary>
    public required string Source { get; init; }

    /// <summary>The document's title where the format has one (HTML title, first Markdown heading, JSON title field).</summary>
    public string? Title { get; init; }

    /// <summary>The document's text, normalised to '\n' line ends.</summary>
    public required string Text { get; init; }

    /// <summary>Sections covering <see cref="Text"/> in order, without gaps or overlaps; empty means one untitled section.</summary>
    public IReadOnlyList<DocumentSection> Sections { get; init; } = [];

    /// <summary>Invalid bytes (or unpaired surrogates) replaced by U+FFFD while decoding.</summary>
    public int ReplacedCharacters { get; init; }

    /// <summary>The images to index as image passages, in document order.</summary>
    public IReadOnlyList<DocumentImage> Images { get; init; } = [];

    /// <summary>Images left out as too small to carry content (icons, bullets, spacers; under 32 pixels a side).</summary>
    public int SkippedImages { get; init; }

    /// <summary>Images inside the document that could not be used, one line each naming where they were; the rest of the document is indexed.</summary>
    public IReadOnlyList<string> ImageProblems { get; init; } = [];
}
