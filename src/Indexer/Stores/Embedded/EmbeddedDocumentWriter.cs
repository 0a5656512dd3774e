using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Indexer.Stores.Fields;
using static T5Gemma2.Rag.Indexer.Stores.Embedded.EmbeddedErrors;
using static T5Gemma2.Rag.Indexer.Stores.Embedded.EmbeddedSql;

namespace T5Gemma2.Rag.Indexer.Stores.Embedded;

/// <summary>
/// The embedded collection's writes: each call is one SQLite transaction (WAL) that also bumps the file's generation,
/// taken under the vector index's write lock and applied to the vectors in memory once committed. Another process's
/// write makes it wait, bounded by <see cref="EmbeddedStoreOptions.WriteWait"/>; a full disk rolls it back whole.
/// </summary>
internal sealed class EmbeddedDocumentWriter(EmbeddedCollectionFile file, EmbeddedVectorIndex vectors, EmbeddedStoreOptions options, ILogger logger, Func<SqliteConnection> connect)
{
    /// <summary>Replaces each document's passages and record by the given ones.</summary>
    public void Upsert(IReadOnlyList<DocumentUpdate> updates) => this.Write((connection, transaction, removed, added) =>
    {
        using var select = Command(connection, transaction, "SELECT rowid FROM passages WHERE document_id = $document");
        using var delete = Command(connection, transaction, "DELETE FROM passages WHERE document_id = $document");
        using var insert = Command(connection, transaction, """
            INSERT INTO passages(id, document_id, source, title, section_path, page, start, length, chunk_index, text, content_hash, token_count, tags, indexed_at, vector, kind, image_type, image, fields)
            VALUES ($id, $document, $source, $title, $section, $page, $start, $length, $chunk, $text, $hash, $tokens, $tags, $indexed, $vector, $kind, $imageType, $image, $fields)
            RETURNING rowid
            """);
        using var document = Command(connection, transaction, """
            INSERT OR REPLACE INTO documents(id, source, content_hash, passage_count, indexed_at) VALUES ($document, $source, $hash, $count, $indexed)
            """);
        foreach (var update in updates)
        {
            removed.AddRange(ReadRowIds(select, update.Document.DocumentId));
            SetValues(delete, ("$document", update.Document.DocumentId));
            delete.ExecuteNonQuery();
            foreach (var stored in update.Passages)
            {
                var p = stored.Passage;
                float[] vector = EmbeddedVectorIndex.Normalized(stored.Vector.Span);
                SetValues(insert, ("$id", p.Id), ("$document", p.DocumentId), ("$source", p.Source), ("$title", p.Title), ("$section", p.SectionPath),
                    ("$page", p.Page), ("$start", p.Start), ("$length", p.Length), ("$chunk", p.ChunkIndex), ("$text", p.Text), ("$hash", p.ContentHash),
                    ("$tokens", p.TokenCount), ("$tags", JsonSerializer.Serialize(p.Tags)), ("$indexed", p.IndexedAt.ToUnixTimeMilliseconds()),
                    ("$vector", MemoryMarshal.AsBytes(vector.AsSpan()).ToArray()), ("$kind", p.Kind == PassageKind.Image ? "image" : "text"),
                    ("$imageType", p.Image?.MediaType), ("$image", p.Image?.Data), ("$fields", PassageFields.ToJson(p.Fields)));
                added.Add(((long)insert.ExecuteScalar()!, vector));
            }

            var d = update.Document;
            SetValues(document, ("$document", d.DocumentId), ("$source", d.Source), ("$hash", d.ContentHash), ("$count", update.Passages.Count), ("$indexed", d.IndexedAt.ToUnixTimeMilliseconds()));
            document.ExecuteNonQuery();
        }

        return updates.Count;
    });

    /// <summary>Removes the documents and their passages; returns how many documents existed.</summary>
    public int Delete(IReadOnlyCollection<string> documentIds) => this.Write((connection, transaction, removed, _) =>
    {
        using var select = Command(connection, transaction, "SELECT rowid FROM passages WHERE document_id = $document");
        using var delete = Command(connection, transaction, "DELETE FROM passages WHERE document_id = $document");
        using var deleteDocument = Command(connection, transaction, "DELETE FROM documents WHERE id = $document");
        int count = 0;
        foreach (string id in documentIds)
        {
            removed.AddRange(ReadRowIds(select, id));
            SetValues(delete, ("$document", id));
            delete.ExecuteNonQuery();
            SetValues(deleteDocument, ("$document", id));
            count += deleteDocument.ExecuteNonQuery();
        }

        return count;
    });

    /// <summary>Runs a write in one transaction that also bumps the generation, then applies it to the vector matrix.</summary>
    private int Write(Func<SqliteConnection, SqliteTransaction, List<long>, List<(long RowId, float[] Vector)>, int> write)
    {
        int result;
        vectors.EnterWrite();
        try
        {
            using var connection = connect();
            using var transaction = this.BeginWrite(connection);
            long before = ReadGeneration(connection, transaction);
            var removed = new List<long>();
            var added = new List<(long, float[])>();
            result = write(connection, transaction, removed, added);
            using (var bump = Command(connection, transaction, "UPDATE meta SET value = $generation WHERE key = 'generation'"))
            {
                SetValues(bump, ("$generation", (before + 1).ToString(CultureInfo.InvariantCulture)));
                bump.ExecuteNonQuery();
            }

            transaction.Commit();

            // The matrix follows the file only when it was in step with it; otherwise the next search reloads it.
            vectors.Apply(before, removed, added);
        }
        catch (SqliteException ex) when (IsReadOnlyError(ex))
        {
            throw new StoreException($"{file.Path}: cannot write the collection ({FirstLine(ex.Message)}); expected a writable store.", ex);
        }
        catch (SqliteException ex) when (IsDamaged(ex))
        {
            throw Damaged(file.Path, ex);
        }
        catch (SqliteException ex) when (IsDiskFull(ex))
        {
            // The transaction rolled back: the file holds every earlier write whole and nothing of this one.
            throw new StoreWriteException(StoreWriteFault.DiskFull, $"{file.Path}: the disk is full ({FirstLine(ex.Message)}); nothing of this write was stored, everything before it was. Free space and run again.", ex);
        }
        finally
        {
            vectors.ExitWrite();
        }

        vectors.Graphs.SaveAfterBuild();
        return result;
    }

    /// <summary>
    /// Begins the write transaction (BEGIN IMMEDIATE takes the file's write lock). Another process's write makes it wait:
    /// briefly first, then, with a warning, up to <see cref="EmbeddedStoreOptions.WriteWait"/>.
    /// </summary>
    private SqliteTransaction BeginWrite(SqliteConnection connection)
    {
        // SQLite's busy timeout is the connection's DefaultTimeout, in whole seconds.
        connection.DefaultTimeout = 1;
        try
        {
            return connection.BeginTransaction(deferred: false);
        }
        catch (SqliteException ex) when (IsBusy(ex))
        {
            logger.WaitingForWriter(file.Path, options.WriteWait.TotalSeconds);
        }

        connection.DefaultTimeout = Math.Max(1, (int)Math.Ceiling(options.WriteWait.TotalSeconds) - 1);
        try
        {
            return connection.BeginTransaction(deferred: false);
        }
        catch (SqliteException ex) when (IsBusy(ex))
        {
            throw new StoreWriteException(StoreWriteFault.Busy, $"{file.Path}: another process held the collection's write lock for {options.WriteWait.TotalSeconds:F0} s; nothing of this write was stored. Run again when it has finished.", ex);
        }
    }
}
