using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using static T5Gemma2.Rag.Indexer.Stores.Embedded.EmbeddedErrors;
using static T5Gemma2.Rag.Indexer.Stores.Embedded.EmbeddedSql;

namespace T5Gemma2.Rag.Indexer.Stores.Embedded;

/// <summary>
/// A collection of the embedded store: one SQLite file (documents, passages with their vectors, FTS5 for BM25) plus
/// an in-memory <see cref="VectorMatrix"/> for exact dense search and, past
/// <see cref="EmbeddedStoreOptions.ExactSearchThreshold"/> passages, an HNSW graph over it for approximate search.
/// </summary>
/// <remarks>
/// <para>The parts: the file (<see cref="EmbeddedCollectionFile"/>: open, create, schema), the writes
/// (<see cref="EmbeddedDocumentWriter"/>), the search of one snapshot (<see cref="EmbeddedSearch"/>), and the vectors
/// in memory with their graph (<see cref="EmbeddedVectorIndex"/>, <see cref="HnswGraphLifecycle"/>).</para>
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
    /// <summary>The columns <see cref="ReadDocument"/> reads, in its order.</summary>
    private const string DocumentColumns = "id, source, content_hash, passage_count, indexed_at";

    private readonly EmbeddedCollectionFile _file;
    private readonly EmbeddedStoreOptions _options;
    private readonly EmbeddedVectorIndex _vectors;
    private readonly EmbeddedDocumentWriter _writer;

    private EmbeddedPassageCollection(string name, EmbeddedCollectionFile file, EmbeddedStoreOptions options, ILogger logger)
    {
        this.Name = name;
        this._file = file;
        this._options = options;
        this._vectors = new EmbeddedVectorIndex(file.Settings.Dimensions, options, Path.Combine(Path.GetDirectoryName(file.Path)!, HnswVectorIndex.FileName), file.Owner, file.ReadOnly);
        this._writer = new EmbeddedDocumentWriter(file, this._vectors, options, logger, this.OpenConnection);
    }

    public string Name { get; }

    public CollectionSettings Settings => this._file.Settings;

    /// <summary>The collection's SQLite file.</summary>
    public string DatabasePath => this._file.Path;

    /// <summary>Full builds of the HNSW graph since open (loading the saved graph, or keeping it in step with writes, is none).</summary>
    public int VectorIndexBuilds => this._vectors.Graphs.Builds;

    /// <summary>Times the saved HNSW graph was loaded instead of built.</summary>
    public int VectorIndexLoads => this._vectors.Graphs.Loads;

    /// <summary>True when dense search goes through the HNSW graph: one is built or loaded and in step with the vectors.</summary>
    public bool VectorIndexReady => this._vectors.GraphReady;

    /// <summary>How long the last full build of the HNSW graph took (zero when none was built).</summary>
    public TimeSpan LastVectorIndexBuildTime => this._vectors.Graphs.LastBuildTime;

    /// <summary>How long the last save of the HNSW graph to <see cref="HnswVectorIndex.FileName"/> took (zero when none was saved).</summary>
    public TimeSpan LastVectorIndexSaveTime => this._vectors.Graphs.LastSaveTime;

    /// <summary>Opens the collection in <paramref name="directory"/>, creating it when <paramref name="create"/> is given and no file exists.</summary>
    /// <exception cref="StoreException">The directory is not writable, the file is not a collection, or its schema is newer.</exception>
    internal static EmbeddedPassageCollection Open(string name, string directory, CollectionSettings? create, EmbeddedStoreOptions options, ILogger logger) =>
        new(name, EmbeddedCollectionFile.Open(name, directory, create), options, logger);

    /// <inheritdoc />
    public Task<CollectionInfo> GetInfoAsync(CancellationToken cancellationToken = default)
    {
        using var connection = this.OpenConnection();
        long documents = Scalar(connection, null, "SELECT count(*) FROM documents");
        long passages = Scalar(connection, null, "SELECT count(*) FROM passages");
        var created = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(ReadMeta(connection, "created_at") ?? "0", CultureInfo.InvariantCulture));
        return Task.FromResult(new CollectionInfo(this.Name, this.Settings, documents, passages, created, Path.GetDirectoryName(this._file.Path)!));
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, DocumentRecord>> GetDocumentsAsync(CancellationToken cancellationToken = default)
    {
        using var connection = this.OpenConnection();
        using var command = Command(connection, null, $"SELECT {DocumentColumns} FROM documents");
        using var reader = command.ExecuteReader();
        var documents = new Dictionary<string, DocumentRecord>(StringComparer.Ordinal);
        while (reader.Read())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var record = ReadDocument(reader);
            documents[record.DocumentId] = record;
        }

        return Task.FromResult<IReadOnlyDictionary<string, DocumentRecord>>(documents);
    }

    /// <inheritdoc />
    /// <remarks>One query on the primary key, the id a bound parameter compared with <c>=</c> (no LIKE, so nothing in it is a wildcard).</remarks>
    public Task<DocumentRecord?> GetDocumentAsync(string documentId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = this.OpenConnection();
        using var command = Command(connection, null, $"SELECT {DocumentColumns} FROM documents WHERE id = $id");
        command.Parameters.AddWithValue("$id", documentId);
        using var reader = command.ExecuteReader();
        return Task.FromResult(reader.Read() ? ReadDocument(reader) : null);
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
    public Task<IReadOnlyList<StoredPassage>> GetPassagesAsync(IReadOnlyCollection<string> passageIds, bool includeVectors, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(passageIds);
        cancellationToken.ThrowIfCancellationRequested();
        if (passageIds.Count == 0)
        {
            return Task.FromResult<IReadOnlyList<StoredPassage>>([]);
        }

        using var connection = this.OpenConnection();
        using var command = Command(connection, null, string.Empty);
        command.CommandText = $"SELECT {this.ReadColumns(includeVectors)} FROM passages p WHERE p.id IN (SELECT value FROM json_each($ids))";
        command.Parameters.AddWithValue("$ids", JsonSerializer.Serialize(passageIds));
        return Task.FromResult(ReadStored(command, includeVectors, cancellationToken));
    }

    /// <inheritdoc />
    /// <remarks>One query: the filter and the order in SQL over the fields column, LIMIT and OFFSET for the page.</remarks>
    public Task<IReadOnlyList<StoredPassage>> ListPassagesAsync(PassageListRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = this.OpenConnection();
        using var command = Command(connection, null, string.Empty);
        string conditions = EmbeddedFilter.ToSql(request.Filter, command);
        string order = EmbeddedFilter.OrderBySql(request.OrderBy, command);
        command.CommandText = $"SELECT {this.ReadColumns(request.IncludeVectors)} FROM passages p WHERE 1{conditions}{order} LIMIT $limit OFFSET $offset";
        command.Parameters.AddWithValue("$limit", request.Top);
        command.Parameters.AddWithValue("$offset", request.Skip);
        return Task.FromResult(ReadStored(command, request.IncludeVectors, cancellationToken));
    }

    /// <inheritdoc />
    public Task UpsertDocumentsAsync(IReadOnlyList<DocumentUpdate> updates, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updates);
        this.ThrowIfReadOnly();
        DocumentUpdate.ThrowIfInvalid(updates, this.Name, this.Settings.Dimensions);

        cancellationToken.ThrowIfCancellationRequested();
        this._writer.Upsert(updates);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<int> DeleteDocumentsAsync(IReadOnlyCollection<string> documentIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documentIds);
        this.ThrowIfReadOnly();
        return Task.FromResult(this._writer.Delete(documentIds));
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
        if (this._vectors.Graphs.PendingBuild() is { } build)
        {
            await build.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Past <see cref="EmbeddedStoreOptions.ExactSearchThreshold"/> passages the HNSW graph is loaded (or built) now and
    /// kept in step with the writes, then saved when the store closes, so the next search need not rebuild it (minutes at
    /// a million passages). A smaller collection needs nothing. The session has nothing to end.
    /// </remarks>
    public async Task<BulkWriteSession> BeginBulkWriteAsync(Func<string, Func<Task>, Task>? slowStep = null, CancellationToken cancellationToken = default)
    {
        if ((await this.GetInfoAsync(cancellationToken).ConfigureAwait(false)).Passages >= this._options.ExactSearchThreshold)
        {
            Task Load() => this.PrepareSearchAsync(cancellationToken);
            await (slowStep is null ? Load() : slowStep($"loading the vector index of '{this.Name}'", Load)).ConfigureAwait(false);
        }

        return BulkWriteSession.None;
    }

    /// <summary>Saves the HNSW graph when it changed since it was saved or loaded (a cache: the next open then need not rebuild it).</summary>
    public void Dispose() => this.Close(saveVectorIndex: true);

    /// <summary>Closes the collection; <paramref name="saveVectorIndex"/> false skips saving the graph (the collection is being deleted).</summary>
    internal void Close(bool saveVectorIndex)
    {
        if (!this._vectors.IsClosed)
        {
            this._vectors.Close(saveVectorIndex);
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
            this._vectors.EnterRead();
            try
            {
                using var connection = this.OpenConnection();
                using var transaction = connection.BeginTransaction(deferred: true);
                if (ReadGeneration(connection, transaction) == this._vectors.Generation)
                {
                    return Task.FromResult(EmbeddedSearch.Run(connection, transaction, request, this._file.SchemaVersion, (query, k, allowed) => this._vectors.Nearest(query, k, allowed, exact)));
                }
            }
            catch (SqliteException ex) when (IsDamaged(ex))
            {
                throw Damaged(this._file.Path, ex);
            }
            finally
            {
                this._vectors.ExitRead();
            }

            this.ReloadVectors();
        }
    }

    /// <summary>Brings the vectors to the file's generation, then saves a graph that this built inline.</summary>
    private void ReloadVectors()
    {
        this._vectors.Reload(this.OpenConnection, this._file.Path);
        this._vectors.Graphs.SaveAfterBuild();
    }

    /// <summary>The passage columns, then the vector when it is wanted (read by <see cref="ReadStored"/>).</summary>
    private string ReadColumns(bool includeVectors) => EmbeddedSchema.PassageColumns(this._file.SchemaVersion) + (includeVectors ? ", p.vector" : string.Empty);

    private static IReadOnlyList<StoredPassage> ReadStored(SqliteCommand command, bool includeVectors, CancellationToken cancellationToken)
    {
        using var reader = command.ExecuteReader();
        var passages = new List<StoredPassage>();
        while (reader.Read())
        {
            cancellationToken.ThrowIfCancellationRequested();
            passages.Add(new StoredPassage(EmbeddedSearch.ReadPassage(reader), includeVectors ? ReadVector(reader, 19) : ReadOnlyMemory<float>.Empty));
        }

        return passages;
    }

    private static DocumentRecord ReadDocument(SqliteDataReader reader) =>
        new(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)));

    private SqliteConnection OpenConnection()
    {
        ObjectDisposedException.ThrowIf(this._vectors.IsClosed, this);
        return this._file.Connect();
    }

    private void ThrowIfReadOnly()
    {
        if (this._file.ReadOnly)
        {
            throw new StoreException($"{this._file.Path}: the collection is read-only here (its directory or file is not writable); expected a writable store to index into.");
        }
    }
}
