namespace T5Gemma2.Rag.Indexer.Loading;

/// <summary>
/// Which fields of a JSON record hold its text, id and title, and how bad records are reported. The defaults read a
/// BEIR corpus.jsonl as it is (<c>_id</c>, <c>title</c>, <c>text</c>).
/// </summary>
public sealed class JsonRecordLoaderOptions
{
    /// <summary>The field with the record's text; a record without it (or with a non-string value) is skipped.</summary>
    public string TextField { get; init; } = "text";

    /// <summary>The field with the record's id (a string or a number); without it the id is the 1-based line number (JSON lines) or the 0-based array index (JSON).</summary>
    public string IdField { get; init; } = "_id";

    /// <summary>The field with the record's title, optional.</summary>
    public string TitleField { get; init; } = "title";

    /// <summary>
    /// True: a document id is "relative/path.jsonl#id", unique across files. False: the record's id alone, as BEIR
    /// evaluation needs it to match qrels (ids must then be unique across the indexed files).
    /// </summary>
    public bool QualifyIds { get; init; } = true;

    /// <summary>The longest JSON line read; a longer one is skipped without holding it in memory.</summary>
    public int MaxRecordBytes { get; init; } = 64 << 20;

    /// <summary>
    /// Receives each skipped record (invalid JSON, not an object, no string text field, too long, or the unreadable rest
    /// of a damaged file) once the file has proved to hold at least one valid record. A file with no valid record
    /// throws one <see cref="Documents.DocumentLoadException"/> instead, naming the first bad record, so a file in the wrong
    /// format is one error, not thousands. Called on the thread that enumerates the file's documents, so it must be
    /// thread-safe when files load in parallel; null ignores skipped records.
    /// </summary>
    public Action<SkippedRecord>? RecordSkipped { get; init; }
}
