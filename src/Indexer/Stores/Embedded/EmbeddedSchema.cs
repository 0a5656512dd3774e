namespace T5Gemma2.Rag.Indexer.Stores.Embedded;

/// <summary>
/// The SQLite layout of one embedded collection. <c>PRAGMA user_version</c> holds <see cref="Version"/>; a file of a
/// newer version is refused rather than misread. Passages keep their vector as a little-endian float32 BLOB; an
/// external-content FTS5 table (porter stemming, diacritics folded) over text, title and section path serves BM25.
/// Version 2 added each passage's kind and image (media type and encoded bytes); a version 1 file is migrated when it is
/// opened writable (<see cref="MigrateFrom1"/>: the new columns, every old passage text), and read as it is when it
/// cannot be written. Version 3 added each passage's typed fields (a JSON object, <c>'{}'</c> for indexed documents),
/// migrated the same way (<see cref="MigrateFrom2"/>).
/// </summary>
internal static class EmbeddedSchema
{
    public const int Version = 3;

    /// <summary>The oldest version this t5rag reads.</summary>
    public const int OldestReadable = 1;

    public const string FileName = "collection.db";

    public const string Create = """
        CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS documents(
            id TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            passage_count INTEGER NOT NULL,
            indexed_at INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS passages(
            rowid INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            document_id TEXT NOT NULL,
            source TEXT NOT NULL,
            title TEXT,
            section_path TEXT,
            page INTEGER,
            start INTEGER NOT NULL,
            length INTEGER NOT NULL,
            chunk_index INTEGER NOT NULL,
            text TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            token_count INTEGER NOT NULL,
            tags TEXT NOT NULL,
            indexed_at INTEGER NOT NULL,
            vector BLOB NOT NULL,
            kind TEXT NOT NULL DEFAULT 'text',
            image_type TEXT,
            image BLOB,
            fields TEXT NOT NULL DEFAULT '{}');
        CREATE INDEX IF NOT EXISTS passages_document ON passages(document_id);
        CREATE VIRTUAL TABLE IF NOT EXISTS passages_fts USING fts5(
            text, title, section_path, content='passages', content_rowid='rowid',
            tokenize='porter unicode61 remove_diacritics 2');
        CREATE TRIGGER IF NOT EXISTS passages_fts_insert AFTER INSERT ON passages BEGIN
            INSERT INTO passages_fts(rowid, text, title, section_path) VALUES (new.rowid, new.text, new.title, new.section_path);
        END;
        CREATE TRIGGER IF NOT EXISTS passages_fts_delete AFTER DELETE ON passages BEGIN
            INSERT INTO passages_fts(passages_fts, rowid, text, title, section_path) VALUES ('delete', old.rowid, old.text, old.title, old.section_path);
        END;
        """;

    /// <summary>Version 1 to 2: ALTER TABLE keeps every row, and the default makes every old passage a text one.</summary>
    public const string MigrateFrom1 = """
        ALTER TABLE passages ADD COLUMN kind TEXT NOT NULL DEFAULT 'text';
        ALTER TABLE passages ADD COLUMN image_type TEXT;
        ALTER TABLE passages ADD COLUMN image BLOB;
        """;

    /// <summary>Version 2 to 3: the typed fields of records written through the VectorData connector.</summary>
    public const string MigrateFrom2 = """
        ALTER TABLE passages ADD COLUMN fields TEXT NOT NULL DEFAULT '{}';
        """;

    private const string CommonPassageColumns =
        "p.rowid, p.id, p.document_id, p.source, p.title, p.section_path, p.page, p.start, p.length, p.chunk_index, p.text, p.content_hash, p.token_count, p.tags, p.indexed_at";

    /// <summary>The columns a passage is read from, in the order <c>EmbeddedSearch</c> reads them, for a file of <paramref name="version"/>.</summary>
    public static string PassageColumns(int version) => version switch
    {
        >= 3 => CommonPassageColumns + ", p.kind, p.image_type, p.image, p.fields",
        2 => CommonPassageColumns + ", p.kind, p.image_type, p.image, '{}'", // a read-only version 2 file: no fields
        _ => CommonPassageColumns + ", 'text', NULL, NULL, '{}'", // a read-only version 1 file: text passages only
    };
}
