namespace T5Gemma2.Rag.Indexer.Documents;

/// <summary>
/// One chunk of a document as it is stored and retrieved: its text, where it came from (for citations) and its
/// deterministic id (<see cref="PassageIds"/>).
/// </summary>
public sealed class Passage
{
    /// <summary>Deterministic id from the document id, chunk index and content hash (<see cref="PassageIds.Create"/>).</summary>
    public required string Id { get; init; }

    public required string DocumentId { get; init; }

    /// <summary>The document's path or URI.</summary>
    public required string Source { get; init; }

    public string? Title { get; init; }

    /// <summary>The headings above the passage, outermost first, joined by " > ".</summary>
    public string? SectionPath { get; init; }

    /// <summary>1-based page number (PDF), null elsewhere.</summary>
    public int? Page { get; init; }

    /// <summary>First character of the passage in the loaded document's text.</summary>
    public int Start { get; init; }

    /// <summary>Characters in the passage.</summary>
    public int Length { get; init; }

    /// <summary>0-based position of the passage among its document's passages.</summary>
    public int ChunkIndex { get; init; }

    public required string Text { get; init; }

    /// <summary>Lower-case hex SHA-256 of <see cref="Text"/> (UTF-8).</summary>
    public required string ContentHash { get; init; }

    /// <summary>The model's token count of <see cref="Text"/>, special tokens excluded.</summary>
    public int TokenCount { get; init; }

    /// <summary>Text, or an image whose <see cref="Text"/> is its nearby text (caption, alt text, paragraph; possibly empty).</summary>
    public PassageKind Kind { get; init; } = PassageKind.Text;

    /// <summary>The image of an <see cref="PassageKind.Image"/> passage; null for text.</summary>
    public PassageImage? Image { get; init; }

    /// <summary>User tags (key = value), filterable.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = s_noTags;

    /// <summary>When the passage was written to the store.</summary>
    public DateTimeOffset IndexedAt { get; init; }

    /// <summary>
    /// Typed fields, filterable by <see cref="Stores.Fields.FieldCondition"/>: a record's data properties when the
    /// passage was written through the VectorData connector (values as <see cref="Stores.Fields.PassageFields"/> says);
    /// empty for passages of indexed documents.
    /// </summary>
    public IReadOnlyDictionary<string, object?> Fields { get; init; } = s_noFields;

    private static readonly IReadOnlyDictionary<string, string> s_noTags = new Dictionary<string, string>();
    private static readonly IReadOnlyDictionary<string, object?> s_noFields = new Dictionary<string, object?>();
}
