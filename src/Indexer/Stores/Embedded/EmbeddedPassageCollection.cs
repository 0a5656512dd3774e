using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using T5Gemma2.Rag.Indexer.Documents;

namespace T5Gemma2.Rag.Indexer.Stores.Embedded;

/// <summary>
/// A collection of the embedded store: one SQLite file (documents, passages with their vectors, FTS5 for BM25) plus
/// an in-memory <see cref="VectorMatrix"/> for exact dense search and, past
/// <see cref="EmbeddedStoreOptions.ExactSearchThreshold"/> passages, an HNSW graph over it for approximate search.
/// </summary>
/// <remarks>
/// <para>Durability: every <see cref="UpsertDocumentsAsync"/> and <see cref="DeleteDocumentsAsync"/> is one SQLite
/// transaction (WAL), so a process killed at any point leaves each document as it was before the call or after it.</para>
/// <para>Consistency: each write bumps a generation number in the same transaction. A search reads inside one SQLite
/// snapshot and uses the vector matrix only when it holds that snapshot's generation (reloading it otherwise, e.g.
/// after another process wrote), so concurrent searches see a whole write or none of it. The HNSW graph follows the
/// matrix the same way and is used only at the matrix's generation.</para>
/// <para>The graph is derived data: saved beside the database (<see cref="HnswVectorIndex.FileName"/>) after a full
/// build and on <see cref="Dispose"/>, reused on open when it was saved at the file's generation, rebuilt from SQLite
/// otherwise. A build (minutes at a million passages) runs on its own thread, off the lock: searches scan exactly
/// meanwhile, writes go on, and the rows they touch are re-placed in the new graph before it is swapped in.</para>
/// </remarks>
public sealed class EmbeddedPassageCollection : IPassageCollection
{
    /// <summary>A graph of at most this many vector components (1,600 × 640, 32,768 × 32) builds in milliseconds: inline, so the next search already uses it.</summary>
    private const long InlineBuildScalars = 1 << 20;

    /// <summary>Rows read from the matrix per hold of the read lock while building: a write waits for one batch's quantization at most.</summary>
    private const int BuildBatch = 4_096;

    /// <summary>Rows written during a build that are re-placed under the write lock, the graph swapped in with them; more are done outside it first.</summary>
    private const int SwapInUnderLock = 1_024;

    private readonly string _connectionString;
    private readonly string _path;
    private readonly bool _readOnly;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly VectorMatrix _matrix;
    private readonly EmbeddedStoreOptions _options;
    private readonly ILogger _logger;

    /// <summary>One thread saves the graph at a time; others skip rather than wait.</summary>
    private readonly Lock _saveGate = new();
    private HnswVectorIndex? _graph;
    private string _graphOwner = string.Empty;

    /// <summary>The graph being built off the lock, while searches scan (null when none); set and cleared under the write lock.</summary>
    private PendingGraph? _pending;

    /// <summary>The generation of the graph on disk (saved or loaded here), so an unchanged graph is not written again.</summary>
    private long _savedGeneration = -1;
    private int _saveAfterBuild;
    private int _graphBuilds;
    private int _graphLoads;
    private long _graphBuildTicks;
    private long _graphSaveTicks;
    private bool _disposed;

    private EmbeddedPassageCollection(string name, string path, CollectionSettings settings, string connectionString, bool readOnly, EmbeddedStoreOptions options, ILogger logger)
    {
        this._logger = logger;
        this.Name = name;
        this.Settings = settings;
        this._path = path;
        this._connectionString = connectionString;
        this._readOnly = readOnly;
        this._options = options;
        this._matrix = new VectorMatrix(settings.Dimensions);
    }

    public string Name { get; }

    public CollectionSettings Settings { get; }

    /// <summary>The collection's SQLite file.</summary>
    public string DatabasePath => this._path;

    /// <summary>Full builds of the HNSW graph since open (loading the saved graph, or keeping it in step with writes, is none).</summary>
    public int VectorIndexBuilds => Volatile.Read(ref this._graphBuilds);

    /// <summary>Times the saved HNSW graph was loaded instead of built.</summary>
    public int VectorIndexLoads => Volatile.Read(ref this._graphLoads);

    /// <summary>True when dense search goes through the HNSW graph: one is built or loaded and in step with the vectors.</summary>
    public bool VectorIndexReady
    {
        get
        {
            this._lock.EnterReadLock();
            try
            {
                return this._graph is { } graph && graph.Generation == this._matrix.Generation;
            }
            finally
            {
                this._lock.ExitReadLock();
            }
        }
    }

    /// <summary>How long the last full build of the HNSW graph took (zero when none was built).</summary>
    public TimeSpan LastVectorIndexBuildTime => TimeSpan.FromTicks(Interlocked.Read(ref this._graphBuildTicks));

    /// <summary>How long the last save of the HNSW graph to <see cref="HnswVectorIndex.FileName"/> took (zero when none was saved).</summary>
    public TimeSpan LastVectorIndexSaveTime => TimeSpan.FromTicks(Interlocked.Read(ref this._graphSaveTicks));

    private string GraphPath => Path.Combine(Path.GetDirectoryName(this._path)!, HnswVectorIndex.FileName);

    /// <summary>Opens the collection in <paramref name="directory"/>, creating it when <paramref name="create"/> is given and no file exists.</summary>
    /// <exception cref="StoreException">The directory is not writable, the file is not a collection, or its schema is newer.</exception>
    internal static EmbeddedPassageCollection Open(string name, string directory, CollectionSettings? create, EmbeddedStoreOptions options, ILogger logger)
    {
        string path = Path.Combine(directory, EmbeddedSchema.FileName);
        bool exists = File.Exists(path);
        if (!exists && create is null)
        {
            throw new StoreException($"{path}: no collection here; expected a collection created by `t5rag index`.");
        }

        bool readOnly = false;
        try
        {
            if (!exists)
            {
                Directory.CreateDirectory(directory);
            }

            using var probe = new SqliteConnection(ConnectionString(path, SqliteOpenMode.ReadWriteCreate));
            probe.Open();
            Initialize(probe, path, create);
        }
        catch (Exception ex) when (exists && IsReadOnlyError(ex))
        {
            // A read-only directory or file can still be searched.
            readOnly = true;
        }
        catch (Exception ex) when (IsReadOnlyError(ex))
        {
            throw new StoreException($"{directory}: the store directory is not writable ({FirstLine(ex.Message)}); expected a writable directory.", ex);
        }
        catch (SqliteException ex)
        {
            throw Damaged(path, ex);
        }

        string connectionString = ConnectionString(path, readOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWrite);
        (CollectionSettings Settings, string Owner) settings;
        try
        {
            settings = ReadSettings(connectionString, path);
        }
        catch (SqliteException ex) when (readOnly && ex.SqliteErrorCode == 14)
        {
            // A WAL file in a directory that cannot be written (a read-only mount) and without its -shm file: SQLite
            // reads it only as immutable, which it is here, since no one can write it through this path.
            connectionString = ConnectionString(new Uri(path).AbsoluteUri + "?immutable=1", SqliteOpenMode.ReadOnly);
            settings = ReadSettings(connectionString, path);
        }

        if (create is not null)
        {
            ModelMismatchException.ThrowIfDiffers(name, settings.Settings, create);
        }

        return new EmbeddedPassageCollection(name, path, settings.Settings, connectionString, readOnly, options, logger) { _graphOwner = settings.Owner };
    }

    /// <inheritdoc />
    public Task<CollectionInfo> GetInfoAsync(CancellationToken cancellationToken = default)
    {
        using var connection = this.OpenConnection();
        long documents = Scalar(connection, null, "SELECT count(*) FROM documents");
        long passages = Scalar(connection, null, "SELECT count(*) FROM passages");
        var created = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(ReadMeta(connection, "created_at") ?? "0", CultureInfo.InvariantCulture));
        return Task.FromResult(new CollectionInfo(this.Name, this.Settings, documents, passages, created, Path.GetDirectoryName(this._path)!));
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, DocumentRecord>> GetDocumentsAsync(CancellationToken cancellationToken = default)
    {
        using var connection = this.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, source, content_hash, passage_count, indexed_at FROM documents";
        using var reader = command.ExecuteReader();
        var documents = new Dictionary<string, DocumentRecord>(StringComparer.Ordinal);
        while (reader.Read())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var record = new DocumentRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)));
            documents[record.DocumentId] = record;
        }

        return Task.FromResult<IReadOnlyDictionary<string, DocumentRecord>>(documents);
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, float[]>> GetVectorsAsync(IReadOnlyCollection<string> passageIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(passageIds);
        var vectors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        if (passageIds.Count > 0)
        {
            using var connection = this.OpenConnection();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT id, vector FROM passages WHERE id IN (SELECT value FROM json_each($ids))";
            command.Parameters.AddWithValue("$ids", JsonSerializer.Serialize(passageIds));
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                vectors[reader.GetString(0)] = ReadVector(reader, 1);
            }
        }

        return Task.FromResult<IReadOnlyDictionary<string, float[]>>(vectors);
    }

    /// <inheritdoc />
    public Task UpsertDocumentsAsync(IReadOnlyList<DocumentUpdate> updates, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updates);
        this.ThrowIfReadOnly();
        DocumentUpdate.ThrowIfInvalid(updates, this.Name, this.Settings.Dimensions);

        cancellationToken.ThrowIfCancellationRequested();
        this.Write((connection, transaction, removed, added) =>
        {
            using var select = Command(connection, transaction, "SELECT rowid FROM passages WHERE document_id = $document");
            using var delete = Command(connection, transaction, "DELETE FROM passages WHERE document_id = $document");
            using var insert = Command(connection, transaction, """
                INSERT INTO passages(id, document_id, source, title, section_path, page, start, length, chunk_index, text, content_hash, token_count, tags, indexed_at, vector)
                VALUES ($id, $document, $source, $title, $section, $page, $start, $length, $chunk, $text, $hash, $tokens, $tags, $indexed, $vector)
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
                    float[] vector = Normalized(stored.Vector.Span);
                    SetValues(insert, ("$id", p.Id), ("$document", p.DocumentId), ("$source", p.Source), ("$title", p.Title), ("$section", p.SectionPath),
                        ("$page", p.Page), ("$start", p.Start), ("$length", p.Length), ("$chunk", p.ChunkIndex), ("$text", p.Text), ("$hash", p.ContentHash),
                        ("$tokens", p.TokenCount), ("$tags", JsonSerializer.Serialize(p.Tags)), ("$indexed", p.IndexedAt.ToUnixTimeMilliseconds()),
                        ("$vector", MemoryMarshal.AsBytes(vector.AsSpan()).ToArray()));
                    added.Add(((long)insert.ExecuteScalar()!, vector));
                }

                var d = update.Document;
                SetValues(document, ("$document", d.DocumentId), ("$source", d.Source), ("$hash", d.ContentHash), ("$count", update.Passages.Count), ("$indexed", d.IndexedAt.ToUnixTimeMilliseconds()));
                document.ExecuteNonQuery();
            }

            return updates.Count;
        });
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<int> DeleteDocumentsAsync(IReadOnlyCollection<string> documentIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentIds);
        this.ThrowIfReadOnly();
        int deleted = this.Write((connection, transaction, removed, _) =>
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
        return Task.FromResult(deleted);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<SearchHit>> SearchAsync(SearchRequest request, CancellationToken cancellationToken = default) =>
        this.SearchAsync(request, exact: false, cancellationToken);

    /// <summary>
    /// Searches like <see cref="SearchAsync(SearchRequest, CancellationToken)"/> but scans every vector whatever the
    /// collection's size: the ground truth that the HNSW graph's recall is measured against.
    /// </summary>
    public Task<IReadOnlyList<SearchHit>> SearchExactAsync(SearchRequest request, CancellationToken cancellationToken = default) =>
        this.SearchAsync(request, exact: true, cancellationToken);

    /// <summary>
    /// Loads the vectors now rather than at the first search, and waits until the HNSW graph is loaded or built (a
    /// search does not wait for it; it scans meanwhile): for a server's start-up, or a benchmark that times the two apart.
    /// </summary>
    public async Task PrepareSearchAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        this.ReloadVectors();
        this.SaveGraphAfterBuild();
        if (this.PendingBuild() is { } build)
        {
            await build.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private Task<IReadOnlyList<SearchHit>> SearchAsync(SearchRequest request, bool exact, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        if (request.Vector is { } vector && vector.Length != this.Settings.Dimensions)
        {
            throw new ArgumentException($"the query vector has {vector.Length} dimensions; collection '{this.Name}' holds {this.Settings.Dimensions}.", nameof(request));
        }

        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            this._lock.EnterReadLock();
            try
            {
                using var connection = this.OpenConnection();
                using var transaction = connection.BeginTransaction(deferred: true);
                if (ReadGeneration(connection, transaction) == this._matrix.Generation)
                {
                    return Task.FromResult(this.Search(connection, transaction, request, exact));
                }
            }
            catch (SqliteException ex) when (IsDamaged(ex))
            {
                throw Damaged(this._path, ex);
            }
            finally
            {
                this._lock.ExitReadLock();
            }

            this.ReloadVectors();
            this.SaveGraphAfterBuild();
        }
    }

    /// <summary>Saves the HNSW graph when it changed since it was saved or loaded (a cache: the next open then need not rebuild it).</summary>
    public void Dispose() => this.Close(saveVectorIndex: true);

    /// <summary>Closes the collection; <paramref name="saveVectorIndex"/> false skips saving the graph (the collection is being deleted).</summary>
    internal void Close(bool saveVectorIndex)
    {
        if (this._disposed)
        {
            return;
        }

        // A build in progress is abandoned (the next open starts again); it takes the lock, so it is waited for outside it.
        if (this.PendingBuild(cancel: true) is { } build)
        {
            try
            {
                build.Wait();
            }
            catch (AggregateException)
            {
                // Cancelled, or failed: either way there is no graph to keep.
            }
        }

        if (saveVectorIndex)
        {
            this.SaveGraph();
        }

        // The write lock waits for searches still running in the native graph before it is freed.
        this._lock.EnterWriteLock();
        try
        {
            this._disposed = true;
            this._graph?.Dispose();
            this._graph = null;
        }
        finally
        {
            this._lock.ExitWriteLock();
        }

        // The lock is not disposed: a search that was waiting for it gets it now and must be able to release it (it
        // then finds the collection closed and throws ObjectDisposedException). It holds no native resource.
    }

    private IReadOnlyList<SearchHit> Search(SqliteConnection connection, SqliteTransaction transaction, SearchRequest request, bool exact)
    {
        int candidates = request.Mode == SearchMode.Hybrid ? Math.Max(request.Top, request.HybridCandidates) : request.Top;
        List<(long RowId, double Score)> dense = [], keyword = [];
        if (request.Mode is SearchMode.Dense or SearchMode.Hybrid)
        {
            float[] query = Normalized(request.Vector!.Value.Span);
            var allowed = request.Filter.IsEmpty ? null : FilteredRowIds(connection, transaction, request.Filter);
            dense = [.. this.Nearest(query, candidates, allowed, exact).Select(r => (r.RowId, (double)r.Score))];
        }

        if (request.Mode is SearchMode.Keyword or SearchMode.Hybrid && KeywordQuery.ToFts5(request.Text!) is { } match)
        {
            keyword = Keyword(connection, transaction, match, request.Filter, candidates);
        }

        List<(long RowId, double Score, int? DenseRank, int? KeywordRank)> ranked = request.Mode switch
        {
            SearchMode.Dense => [.. dense.Select((r, i) => (r.RowId, r.Score, (int?)(i + 1), (int?)null))],
            SearchMode.Keyword => [.. keyword.Select((r, i) => (r.RowId, r.Score, (int?)null, (int?)(i + 1)))],
            _ => [.. HybridFusion.Fuse(dense, keyword, request).Select(f => (f.Key, f.Score, f.DenseRank, f.KeywordRank))],
        };

        var passages = ReadPassages(connection, transaction, ranked.Select(r => r.RowId));
        return [.. ranked.Where(r => passages.ContainsKey(r.RowId)).Select(r => new SearchHit(passages[r.RowId], r.Score, r.DenseRank, r.KeywordRank))];
    }

    /// <summary>
    /// Dense search at the matrix's generation: through the HNSW graph when the collection is past the threshold and any
    /// filter leaves a large share of it; otherwise a scan, which is exact and, over that few vectors, as fast.
    /// </summary>
    private List<(long RowId, float Score)> Nearest(float[] query, int k, HashSet<long>? allowed, bool exact)
    {
        int rows = this._matrix.Count;
        bool scan = exact
            || this._graph is null
            || this._graph.Generation != this._matrix.Generation
            || rows < this._options.ExactSearchThreshold
            || (allowed is not null && allowed.Count < Math.Max(this._options.ExactSearchThreshold, rows / 20));
        return scan ? this._matrix.Nearest(query, k, allowed) : this._graph!.Nearest(query, k, allowed, this._matrix);
    }

    private static List<(long RowId, double Score)> Keyword(SqliteConnection connection, SqliteTransaction transaction, string match, PassageFilter filter, int limit)
    {
        using var command = Command(connection, transaction, string.Empty);
        string conditions = EmbeddedFilter.ToSql(filter, command);
        command.CommandText = $"""
            SELECT p.rowid, -bm25(passages_fts) AS score
            FROM passages_fts JOIN passages p ON p.rowid = passages_fts.rowid
            WHERE passages_fts MATCH $match{conditions}
            ORDER BY bm25(passages_fts) LIMIT $limit
            """;
        command.Parameters.AddWithValue("$match", match);
        command.Parameters.AddWithValue("$limit", limit);
        using var reader = command.ExecuteReader();
        var hits = new List<(long, double)>();
        while (reader.Read())
        {
            hits.Add((reader.GetInt64(0), reader.GetDouble(1)));
        }

        return hits;
    }

    private static HashSet<long> FilteredRowIds(SqliteConnection connection, SqliteTransaction transaction, PassageFilter filter)
    {
        using var command = Command(connection, transaction, string.Empty);
        command.CommandText = "SELECT p.rowid FROM passages p WHERE 1" + EmbeddedFilter.ToSql(filter, command);
        using var reader = command.ExecuteReader();
        var rows = new HashSet<long>();
        while (reader.Read())
        {
            rows.Add(reader.GetInt64(0));
        }

        return rows;
    }

    private static Dictionary<long, Passage> ReadPassages(SqliteConnection connection, SqliteTransaction transaction, IEnumerable<long> rowIds)
    {
        using var command = Command(connection, transaction, $"SELECT {EmbeddedSchema.PassageColumns} FROM passages p WHERE p.rowid IN (SELECT value FROM json_each($rows))");
        command.Parameters.AddWithValue("$rows", JsonSerializer.Serialize(rowIds));
        using var reader = command.ExecuteReader();
        var passages = new Dictionary<long, Passage>();
        while (reader.Read())
        {
            passages[reader.GetInt64(0)] = new Passage
            {
                Id = reader.GetString(1),
                DocumentId = reader.GetString(2),
                Source = reader.GetString(3),
                Title = reader.IsDBNull(4) ? null : reader.GetString(4),
                SectionPath = reader.IsDBNull(5) ? null : reader.GetString(5),
                Page = reader.IsDBNull(6) ? null : reader.GetInt32(6),
                Start = reader.GetInt32(7),
                Length = reader.GetInt32(8),
                ChunkIndex = reader.GetInt32(9),
                Text = reader.GetString(10),
                ContentHash = reader.GetString(11),
                TokenCount = reader.GetInt32(12),
                Tags = JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(13)) ?? [],
                IndexedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(14)),
            };
        }

        return passages;
    }

    /// <summary>Runs a write in one transaction that also bumps the generation, then applies it to the vector matrix.</summary>
    private int Write(Func<SqliteConnection, SqliteTransaction, List<long>, List<(long RowId, float[] Vector)>, int> write)
    {
        int result;
        this._lock.EnterWriteLock();
        try
        {
            using var connection = this.OpenConnection();
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
            if (this._matrix.Generation == before)
            {
                removed.ForEach(this._matrix.Remove);
                added.ForEach(a => this._matrix.Add(a.Item1, a.Item2));
                this._matrix.Generation = before + 1;
                this.UpdateGraph(before, removed, [.. added.Select(a => a.Item1)]);
            }
        }
        catch (SqliteException ex) when (IsReadOnlyError(ex))
        {
            throw new StoreException($"{this._path}: cannot write the collection ({FirstLine(ex.Message)}); expected a writable store.", ex);
        }
        catch (SqliteException ex) when (IsDamaged(ex))
        {
            throw Damaged(this._path, ex);
        }
        catch (SqliteException ex) when (IsDiskFull(ex))
        {
            // The transaction rolled back: the file holds every earlier write whole and nothing of this one.
            throw new StoreWriteException(StoreWriteFault.DiskFull, $"{this._path}: the disk is full ({FirstLine(ex.Message)}); nothing of this write was stored, everything before it was. Free space and run again.", ex);
        }
        finally
        {
            this._lock.ExitWriteLock();
        }

        this.SaveGraphAfterBuild();
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
            this._logger.WaitingForWriter(this._path, this._options.WriteWait.TotalSeconds);
        }

        connection.DefaultTimeout = Math.Max(1, (int)Math.Ceiling(this._options.WriteWait.TotalSeconds) - 1);
        try
        {
            return connection.BeginTransaction(deferred: false);
        }
        catch (SqliteException ex) when (IsBusy(ex))
        {
            throw new StoreWriteException(StoreWriteFault.Busy, $"{this._path}: another process held the collection's write lock for {this._options.WriteWait.TotalSeconds:F0} s; nothing of this write was stored. Run again when it has finished.", ex);
        }
    }

    private void ReloadVectors()
    {
        this._lock.EnterWriteLock();
        try
        {
            using var connection = this.OpenConnection();
            using var transaction = connection.BeginTransaction(deferred: true);
            long generation = ReadGeneration(connection, transaction);
            if (generation == this._matrix.Generation)
            {
                // In step; but a graph whose build failed (or was never started) is started again.
                if (this._graph is null && this._pending is null)
                {
                    this.UpdateGraph(generation, [], []);
                }

                return;
            }

            // Only what differs changes, so the graph (when in step with the old rows) follows with a few edits.
            long previous = this._matrix.Generation;
            this._matrix.EnsureCapacity(checked((int)Scalar(connection, transaction, "SELECT count(*) FROM passages")));
            using var command = Command(connection, transaction, "SELECT rowid, vector FROM passages");
            using var reader = command.ExecuteReader();
            var (removed, changed) = this._matrix.Synchronize(ReadVectors(reader));
            this._matrix.Generation = generation;
            this.UpdateGraph(previous, removed, changed);
        }
        catch (SqliteException ex) when (IsDamaged(ex))
        {
            throw Damaged(this._path, ex);
        }
        finally
        {
            this._lock.ExitWriteLock();
        }
    }

    /// <summary>
    /// Brings the HNSW graph to the matrix's generation after the matrix moved there from <paramref name="previous"/>:
    /// edits it when it was in step, or notes the rows for the graph being built; otherwise, past the threshold, loads
    /// the saved graph or builds one: inline when small, else on its own thread. Runs under the write lock.
    /// </summary>
    private void UpdateGraph(long previous, IReadOnlyCollection<long> removed, IReadOnlyCollection<long> changed)
    {
        try
        {
            if (this._graph is { } graph && graph.Generation == previous)
            {
                graph.Update(removed, changed, this._matrix);
                graph.Generation = this._matrix.Generation;
                return;
            }

            this._graph?.Dispose();
            this._graph = null;
            if (this._pending is { } pending)
            {
                pending.Touched.UnionWith(removed);
                pending.Touched.UnionWith(changed);
                return;
            }

            if (this._matrix.Count < this._options.ExactSearchThreshold)
            {
                return;
            }

            if ((long)this._matrix.Count * this._matrix.Dimensions > InlineBuildScalars)
            {
                this.StartBuild();
                return;
            }

            this._graph = HnswVectorIndex.TryLoad(this.GraphPath, this._matrix.Generation, this._graphOwner, this._matrix.RowIds, this._matrix.Dimensions, this._options);
            if (this._graph is not null)
            {
                this._savedGeneration = this._graph.Generation;
                Interlocked.Increment(ref this._graphLoads);
                return;
            }

            var stopwatch = Stopwatch.StartNew();
            this._graph = HnswVectorIndex.Build(this._matrix, this._options);
            this.CountBuild(stopwatch.Elapsed);
            Volatile.Write(ref this._saveAfterBuild, 1);
        }
        catch
        {
            // A graph half-edited is never searched: without one, search scans (exact) until the next write or reload rebuilds it.
            this._graph?.Dispose();
            this._graph = null;
            throw;
        }
    }

    /// <summary>Starts loading or building the graph on its own thread from the rows as they are now. Runs under the write lock.</summary>
    private void StartBuild()
    {
        var pending = new PendingGraph([.. this._matrix.RowIds], this._matrix.Generation, Int8Quantizer.Fit(this._matrix));
        this._pending = pending;
        pending.Task = Task.Factory.StartNew(() => this.BuildOffTheLock(pending), pending.Cancellation.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>
    /// Loads the graph saved at the pending rows' generation, or builds it, reading the vectors a batch at a time under
    /// the read lock; then re-places the rows written meanwhile, in rounds outside the lock until few are left, and
    /// swaps the graph in under the write lock with the last of them; then saves it.
    /// </summary>
    private void BuildOffTheLock(PendingGraph pending)
    {
        var stopwatch = Stopwatch.StartNew();
        var token = pending.Cancellation.Token;
        HnswVectorIndex? graph = null;
        try
        {
            graph = HnswVectorIndex.TryLoad(this.GraphPath, pending.Generation, this._graphOwner, pending.RowIds, this.Settings.Dimensions, this._options);
            bool loaded = graph is not null;
            if (graph is null)
            {
                graph = HnswVectorIndex.Create(this.Settings.Dimensions, pending.Quantizer, this._options, pending.RowIds.Length);
                for (int first = 0; first < pending.RowIds.Length; first += BuildBatch)
                {
                    token.ThrowIfCancellationRequested();
                    graph.Add(this.QuantizeUnderReadLock(graph, new ArraySegment<long>(pending.RowIds, first, Math.Min(BuildBatch, pending.RowIds.Length - first))));
                }
            }

            while (true)
            {
                token.ThrowIfCancellationRequested();
                long[] touched;
                this._lock.EnterWriteLock();
                try
                {
                    if (pending.Touched.Count <= SwapInUnderLock)
                    {
                        graph.Update([], pending.Touched, this._matrix);
                        graph.Generation = this._matrix.Generation;
                        this._graph = graph;
                        this._pending = null;
                        graph = null;
                        if (loaded)
                        {
                            this._savedGeneration = pending.Generation;
                            Interlocked.Increment(ref this._graphLoads);
                        }
                        else
                        {
                            this.CountBuild(stopwatch.Elapsed);
                        }

                        break;
                    }

                    touched = [.. pending.Touched];
                    pending.Touched.Clear();
                }
                finally
                {
                    this._lock.ExitWriteLock();
                }

                // Rows deleted since are only removed; the others get the vector they have now.
                graph.Remove(touched);
                graph.Add(this.QuantizeUnderReadLock(graph, touched));
            }
        }
        catch
        {
            this._lock.EnterWriteLock();
            try
            {
                if (this._pending == pending)
                {
                    this._pending = null;
                }
            }
            finally
            {
                this._lock.ExitWriteLock();
            }

            throw;
        }
        finally
        {
            graph?.Dispose();
        }

        this.SaveGraph();
    }

    private HnswVectorIndex.QuantizedRows QuantizeUnderReadLock(HnswVectorIndex graph, IEnumerable<long> rowIds)
    {
        this._lock.EnterReadLock();
        try
        {
            return graph.Quantize(rowIds, this._matrix);
        }
        finally
        {
            this._lock.ExitReadLock();
        }
    }

    private void CountBuild(TimeSpan elapsed)
    {
        Interlocked.Exchange(ref this._graphBuildTicks, elapsed.Ticks);
        Interlocked.Increment(ref this._graphBuilds);
    }

    /// <summary>The task of the graph being built, if any; <paramref name="cancel"/> asks it to stop.</summary>
    private Task? PendingBuild(bool cancel = false)
    {
        this._lock.EnterReadLock();
        try
        {
            if (cancel)
            {
                this._pending?.Cancellation.Cancel();
            }

            return this._pending?.Task;
        }
        finally
        {
            this._lock.ExitReadLock();
        }
    }

    /// <summary>Saves a graph just built, outside the write lock so searches go on meanwhile.</summary>
    private void SaveGraphAfterBuild()
    {
        if (Interlocked.Exchange(ref this._saveAfterBuild, 0) == 1)
        {
            this.SaveGraph();
        }
    }

    /// <summary>
    /// Writes the graph when it is in step with the matrix and differs from the one on disk, under the read lock: searches
    /// go on, writes (which would change the graph) wait.
    /// </summary>
    private void SaveGraph()
    {
        if (this._readOnly || !this._saveGate.TryEnter())
        {
            return;
        }

        try
        {
            this._lock.EnterReadLock();
            try
            {
                var stopwatch = Stopwatch.StartNew();
                if (this._graph is { } graph && graph.Generation == this._matrix.Generation && graph.Generation != this._savedGeneration
                    && graph.TrySave(this.GraphPath, this._graphOwner))
                {
                    this._savedGeneration = graph.Generation;
                    Interlocked.Exchange(ref this._graphSaveTicks, stopwatch.Elapsed.Ticks);
                }
            }
            finally
            {
                this._lock.ExitReadLock();
            }
        }
        finally
        {
            this._saveGate.Exit();
        }
    }

    private static IEnumerable<(long RowId, float[] Vector)> ReadVectors(SqliteDataReader reader)
    {
        while (reader.Read())
        {
            yield return (reader.GetInt64(0), ReadVector(reader, 1));
        }
    }

    private SqliteConnection OpenConnection()
    {
        ObjectDisposedException.ThrowIf(this._disposed, this);
        var connection = new SqliteConnection(this._connectionString);
        connection.Open();
        if (!this._readOnly)
        {
            using var pragma = connection.CreateCommand();

            // WAL: readers never block the writer; NORMAL sync is safe against a killed process.
            pragma.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;";
            pragma.ExecuteNonQuery();
        }

        return connection;
    }

    private void ThrowIfReadOnly()
    {
        if (this._readOnly)
        {
            throw new StoreException($"{this._path}: the collection is read-only here (its directory or file is not writable); expected a writable store to index into.");
        }
    }

    private static void Initialize(SqliteConnection connection, string path, CollectionSettings? create)
    {
        long version = Scalar(connection, null, "PRAGMA user_version");
        if (version > EmbeddedSchema.Version)
        {
            throw new StoreException($"{path}: collection schema version {version} is newer than this t5rag reads ({EmbeddedSchema.Version}); upgrade t5rag or index into a new store.");
        }

        if (version == 0 && create is not null)
        {
            // Under the write lock, and looked at again: two processes creating the collection at once create it once
            // (the second would otherwise reset the first's generation to 0 after its first write).
            using var transaction = connection.BeginTransaction(deferred: false);
            if (Scalar(connection, transaction, "PRAGMA user_version") != 0)
            {
                return;
            }

            using (var schema = Command(connection, transaction, EmbeddedSchema.Create))
            {
                schema.ExecuteNonQuery();
            }

            using var meta = Command(connection, transaction, "INSERT OR REPLACE INTO meta(key, value) VALUES ($key, $value)");
            foreach (var (key, value) in new[]
            {
                ("dimensions", create.Dimensions.ToString(CultureInfo.InvariantCulture)),
                ("model_id", create.ModelId),
                ("created_at", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)),
                ("generation", "0"),
            })
            {
                SetValues(meta, ("$key", key), ("$value", value));
                meta.ExecuteNonQuery();
            }

            using (var setVersion = Command(connection, transaction, $"PRAGMA user_version = {EmbeddedSchema.Version}"))
            {
                setVersion.ExecuteNonQuery();
            }

            transaction.Commit();
        }
    }

    private static void CheckVersion(SqliteConnection connection, string path)
    {
        long version = Scalar(connection, null, "PRAGMA user_version");
        if (version != EmbeddedSchema.Version)
        {
            throw new StoreException(version > EmbeddedSchema.Version
                ? $"{path}: collection schema version {version} is newer than this t5rag reads ({EmbeddedSchema.Version}); upgrade t5rag or index into a new store."
                : $"{path}: not a t5rag collection (schema version {version}); expected version {EmbeddedSchema.Version}.");
        }
    }

    /// <summary>The collection's settings, and the identity its saved HNSW graph is stamped with (its name and creation time), so a graph copied from another collection is not adopted.</summary>
    private static (CollectionSettings Settings, string Owner) ReadSettings(string connectionString, string path)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        CheckVersion(connection, path);
        string owner = $"{Path.GetFileName(Path.GetDirectoryName(path))}@{ReadMeta(connection, "created_at") ?? "0"}";
        return (ReadSettings(connection, path), owner);
    }

    private static CollectionSettings ReadSettings(SqliteConnection connection, string path)
    {
        string? dimensions = ReadMeta(connection, "dimensions");
        string? model = ReadMeta(connection, "model_id");
        if (dimensions is null || model is null || !int.TryParse(dimensions, CultureInfo.InvariantCulture, out int d) || d < 1)
        {
            throw new StoreException($"{path}: the collection's meta table lacks a valid 'dimensions' or 'model_id'; expected a collection created by t5rag.");
        }

        return new CollectionSettings(d, model);
    }

    private static string? ReadMeta(SqliteConnection connection, string key)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM meta WHERE key = $key";
        command.Parameters.AddWithValue("$key", key);
        return command.ExecuteScalar() as string;
    }

    private static long ReadGeneration(SqliteConnection connection, SqliteTransaction transaction)
    {
        using var command = Command(connection, transaction, "SELECT value FROM meta WHERE key = 'generation'");
        return long.Parse((string)command.ExecuteScalar()!, CultureInfo.InvariantCulture);
    }

    private static List<long> ReadRowIds(SqliteCommand select, string documentId)
    {
        SetValues(select, ("$document", documentId));
        using var reader = select.ExecuteReader();
        var rows = new List<long>();
        while (reader.Read())
        {
            rows.Add(reader.GetInt64(0));
        }

        return rows;
    }

    private static float[] ReadVector(SqliteDataReader reader, int ordinal) =>
        MemoryMarshal.Cast<byte, float>((byte[])reader.GetValue(ordinal)).ToArray();

    /// <summary>A unit-length copy (cosine = dot product); a zero vector stays zero.</summary>
    private static float[] Normalized(ReadOnlySpan<float> vector)
    {
        float[] copy = vector.ToArray();
        float norm = TensorPrimitives.Norm(copy);
        if (norm > 0 && MathF.Abs(norm - 1) > 1e-6f)
        {
            TensorPrimitives.Divide(copy, norm, copy);
        }

        return copy;
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    private static void SetValues(SqliteCommand command, params (string Name, object? Value)[] values)
    {
        foreach (var (name, value) in values)
        {
            if (command.Parameters.Contains(name))
            {
                command.Parameters[name].Value = value ?? DBNull.Value;
            }
            else
            {
                command.Parameters.AddWithValue(name, value ?? DBNull.Value);
            }
        }
    }

    private static long Scalar(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using var command = Command(connection, transaction, sql);
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static bool IsReadOnlyError(Exception ex) =>
        ex is UnauthorizedAccessException
        || (ex is IOException && ex is not FileNotFoundException)
        || (ex is SqliteException s && s.SqliteErrorCode is 8 or 14); // SQLITE_READONLY, SQLITE_CANTOPEN

    private static bool IsBusy(SqliteException ex) => ex.SqliteErrorCode is 5 or 6; // SQLITE_BUSY, SQLITE_LOCKED

    private static bool IsDamaged(SqliteException ex) => ex.SqliteErrorCode is 11 or 26; // SQLITE_CORRUPT, SQLITE_NOTADB

    /// <summary>One line naming the file and what to do: the vectors and text live only in it, so it is restored or rebuilt.</summary>
    private static StoreException Damaged(string path, SqliteException ex) => new(
        $"{path}: not a readable collection database, damaged or overwritten ({FirstLine(ex.Message)}); restore it from a backup, or delete the collection (t5rag collections delete {Path.GetFileName(Path.GetDirectoryName(path))}) and index again.", ex);

    private static bool IsDiskFull(SqliteException ex) => ex.SqliteErrorCode == 13; // SQLITE_FULL

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();

    private static string ConnectionString(string path, SqliteOpenMode mode) => new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = mode,
        Pooling = true,
        DefaultTimeout = 30,
    }.ToString();

    /// <summary>A graph being built from <see cref="RowIds"/> at <see cref="Generation"/>, and the rows written since (guarded by the collection's lock).</summary>
    private sealed class PendingGraph(long[] rowIds, long generation, Int8Quantizer quantizer)
    {
        public long[] RowIds { get; } = rowIds;

        public long Generation { get; } = generation;

        public Int8Quantizer Quantizer { get; } = quantizer;

        /// <summary>Rowids removed, added or changed since <see cref="Generation"/>: each is removed from the new graph and added again if still present.</summary>
        public HashSet<long> Touched { get; } = [];

        public CancellationTokenSource Cancellation { get; } = new();

        public Task Task { get; set; } = Task.CompletedTask;
    }
}
