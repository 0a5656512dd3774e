using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Indexer.Stores.Embedded;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Stores;

/// <summary>
/// A collection file of schema version 1 (before passages had a kind and an image), written here with that version's
/// SQL as the previous t5rag wrote it, opened by this one: migrated to version 2, its passages still found (as text),
/// and new image passages written beside them.
/// </summary>
public sealed class EmbeddedSchemaMigrationTests
{
    // Schema version 1, verbatim as t5rag created it before image passages.
    private const string Version1 = """
        CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE documents(id TEXT PRIMARY KEY, source TEXT NOT NULL, content_hash TEXT NOT NULL, passage_count INTEGER NOT NULL, indexed_at INTEGER NOT NULL);
        CREATE TABLE passages(rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, document_id TEXT NOT NULL, source TEXT NOT NULL, title TEXT,
            section_path TEXT, page INTEGER, start INTEGER NOT NULL, length INTEGER NOT NULL, chunk_index INTEGER NOT NULL, text TEXT NOT NULL,
            content_hash TEXT NOT NULL, token_count INTEGER NOT NULL, tags TEXT NOT NULL, indexed_at INTEGER NOT NULL, vector BLOB NOT NULL);
        CREATE INDEX passages_document ON passages(document_id);
        CREATE VIRTUAL TABLE passages_fts USING fts5(text, title, section_path, content='passages', content_rowid='rowid', tokenize='porter unicode61 remove_diacritics 2');
        CREATE TRIGGER passages_fts_insert AFTER INSERT ON passages BEGIN
            INSERT INTO passages_fts(rowid, text, title, section_path) VALUES (new.rowid, new.text, new.title, new.section_path);
        END;
        CREATE TRIGGER passages_fts_delete AFTER DELETE ON passages BEGIN
            INSERT INTO passages_fts(passages_fts, rowid, text, title, section_path) VALUES ('delete', old.rowid, old.text, old.title, old.section_path);
        END;
        INSERT INTO meta VALUES ('dimensions', '4'), ('model_id', 'old-model'), ('created_at', '1700000000000'), ('generation', '1');
        INSERT INTO documents VALUES ('/docs/old.md', '/docs/old.md', 'abc', 1, 1700000000000);
        PRAGMA user_version = 1;
        """;

    [Fact]
    public async Task AVersion1CollectionIsMigratedKeepsItsPassagesAndTakesImagePassages()
    {
        var token = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory();
        string store = temp.Combine("store"), file = Path.Combine(store, "default", "collection.db");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        using (var connection = new SqliteConnection($"Data Source={file};Pooling=False"))
        {
            connection.Open();
            using var create = connection.CreateCommand();
            create.CommandText = Version1;
            create.ExecuteNonQuery();
            using var insert = connection.CreateCommand();
            insert.CommandText = """
                INSERT INTO passages(id, document_id, source, title, section_path, page, start, length, chunk_index, text, content_hash, token_count, tags, indexed_at, vector)
                VALUES ('11111111-1111-1111-1111-111111111111', '/docs/old.md', '/docs/old.md', 'Old', NULL, NULL, 0, 26, 0, 'an old passage about otters', 'abc', 5, '{}', 1700000000000, $vector)
                """;
            insert.Parameters.AddWithValue("$vector", MemoryMarshal.AsBytes(new float[] { 1, 0, 0, 0 }.AsSpan()).ToArray());
            insert.ExecuteNonQuery();
        }

        using (var opened = EmbeddedPassageStore.Open(store))
        {
            var collection = (await opened.OpenCollectionAsync("default", token))!;
            var old = Assert.Single(await collection.SearchAsync(new SearchRequest(SearchMode.Keyword, 5) { Text = "otters" }, token)).Passage;
            Assert.Equal(("11111111-1111-1111-1111-111111111111", PassageKind.Text, "an old passage about otters"), (old.Id, old.Kind, old.Text));
            Assert.Null(old.Image);

            byte[] png = [0x89, (byte)'P', (byte)'N', (byte)'G', 9, 8, 7];
            var passage = new Passage
            {
                Id = PassageIds.Create("/docs/new.png", 0, "def"), DocumentId = "/docs/new.png", Source = "/docs/new.png", Text = "a new image",
                ContentHash = "def", Kind = PassageKind.Image, Image = new PassageImage("image/png", png), IndexedAt = DateTimeOffset.UtcNow,
            };
            await collection.UpsertDocumentsAsync([new DocumentUpdate(new DocumentRecord("/docs/new.png", "/docs/new.png", "def", 1, DateTimeOffset.UtcNow), [new StoredPassage(passage, new float[] { 0, 1, 0, 0 })])], token);
        }

        Assert.Equal(EmbeddedSchema.Version, CollectionDatabase.Count(store, "PRAGMA user_version"));
        using var reopened = EmbeddedPassageStore.Open(store);
        var again = (await reopened.OpenCollectionAsync("default", token))!;
        var hits = await again.SearchAsync(new SearchRequest(SearchMode.Dense, 2) { Vector = new float[] { 0, 1, 0, 0 } }, token);
        Assert.Equal((PassageKind.Image, "image/png"), (hits[0].Passage.Kind, hits[0].Passage.Image!.MediaType));
        Assert.Equal(("/docs/old.md", PassageKind.Text), (hits[1].Passage.DocumentId, hits[1].Passage.Kind));
        Assert.Equal(2, (await again.GetInfoAsync(token)).Documents);
    }
}
