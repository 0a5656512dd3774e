using System.Globalization;
using Microsoft.Data.Sqlite;
using static T5Gemma2.Rag.Indexer.Stores.Embedded.EmbeddedErrors;
using static T5Gemma2.Rag.Indexer.Stores.Embedded.EmbeddedSql;

using T5Gemma2.Rag.Indexer.Stores.Fields;

namespace T5Gemma2.Rag.Indexer.Stores.Embedded;

/// <summary>
/// One collection's SQLite file (<see cref="EmbeddedSchema"/>): found or created, its schema version checked, its
/// settings read, and opened writable, or read-only where its directory or file cannot be written.
/// </summary>
/// <param name="Path">The file.</param>
/// <param name="ConnectionString">How every connection to it opens.</param>
/// <param name="ReadOnly">True when it can only be searched.</param>
/// <param name="Settings">The model and dimensions it was created for.</param>
/// <param name="Owner">The identity its saved HNSW graph is stamped with (its name and creation time), so a graph copied from another collection is not adopted.</param>
/// <param name="SchemaVersion">The file's schema version: <see cref="EmbeddedSchema.Version"/>, or an older one in a file that cannot be written (and so was not migrated).</param>
internal sealed record EmbeddedCollectionFile(string Path, string ConnectionString, bool ReadOnly, CollectionSettings Settings, string Owner, int SchemaVersion)
{
    /// <summary>Opens the file in <paramref name="directory"/>, creating it when <paramref name="create"/> is given and no file exists.</summary>
    /// <exception cref="StoreException">The directory is not writable, the file is not a collection, or its schema is newer.</exception>
    public static EmbeddedCollectionFile Open(string name, string directory, CollectionSettings? create)
    {
        string path = System.IO.Path.Combine(directory, EmbeddedSchema.FileName);
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

            using var probe = new SqliteConnection(ConnectionStringFor(path, SqliteOpenMode.ReadWriteCreate));
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

        string connectionString = ConnectionStringFor(path, readOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWrite);
        (CollectionSettings Settings, string Owner, int Version) settings;
        try
        {
            settings = ReadSettings(connectionString, path);
        }
        catch (SqliteException ex) when (readOnly && ex.SqliteErrorCode == 14)
        {
            // A WAL file in a directory that cannot be written (a read-only mount) and without its -shm file: SQLite
            // reads it only as immutable, which it is here, since no one can write it through this path.
            connectionString = ConnectionStringFor(new Uri(path).AbsoluteUri + "?immutable=1", SqliteOpenMode.ReadOnly);
            settings = ReadSettings(connectionString, path);
        }

        if (create is not null)
        {
            ModelMismatchException.ThrowIfDiffers(name, settings.Settings, create);
        }

        return new EmbeddedCollectionFile(path, connectionString, readOnly, settings.Settings, settings.Owner, settings.Version);
    }

    /// <summary>A new open connection; a writable one in WAL mode.</summary>
    public SqliteConnection Connect()
    {
        var connection = new SqliteConnection(this.ConnectionString);
        connection.Open();
        if (!this.ReadOnly)
        {
            using var pragma = connection.CreateCommand();

            // WAL: readers never block the writer; NORMAL sync is safe against a killed process.
            pragma.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;";
            pragma.ExecuteNonQuery();
        }

        return connection;
    }

    private static void Initialize(SqliteConnection connection, string path, CollectionSettings? create)
    {
        long version = Scalar(connection, null, "PRAGMA user_version");
        if (version > EmbeddedSchema.Version)
        {
            throw new StoreException($"{path}: collection schema version {version} is newer than this t5rag reads ({EmbeddedSchema.Version}); upgrade t5rag or index into a new store.");
        }

        if (version is >= EmbeddedSchema.OldestReadable and < EmbeddedSchema.Version)
        {
            Migrate(connection, path);
            return;
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
                ("query_prompt", create.QueryPrompt),
                ("passage_prompt", create.PassagePrompt),
                ("record_schema", create.Record?.ToJson()),
                ("created_at", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)),
                ("generation", "0"),
            })
            {
                if (value is null)
                {
                    continue; // nothing recorded (no prompt), as in collections made before prompts were
                }

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

    /// <summary>Brings an older file to <see cref="EmbeddedSchema.Version"/> in one transaction under the write lock (two processes migrate it once).</summary>
    private static void Migrate(SqliteConnection connection, string path)
    {
        using var transaction = connection.BeginTransaction(deferred: false);
        long version = Scalar(connection, transaction, "PRAGMA user_version");
        if (version is 1 or 2)
        {
            using var migrate = Command(connection, transaction, version == 1 ? EmbeddedSchema.MigrateFrom1 + EmbeddedSchema.MigrateFrom2 : EmbeddedSchema.MigrateFrom2);
            migrate.ExecuteNonQuery();
        }
        else if (version != EmbeddedSchema.Version)
        {
            throw new StoreException($"{path}: collection schema version {version} changed while it was opened; expected {EmbeddedSchema.Version}.");
        }

        using (var setVersion = Command(connection, transaction, $"PRAGMA user_version = {EmbeddedSchema.Version}"))
        {
            setVersion.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    private static int CheckVersion(SqliteConnection connection, string path)
    {
        long version = Scalar(connection, null, "PRAGMA user_version");
        if (version is < EmbeddedSchema.OldestReadable or > EmbeddedSchema.Version)
        {
            throw new StoreException(version > EmbeddedSchema.Version
                ? $"{path}: collection schema version {version} is newer than this t5rag reads ({EmbeddedSchema.Version}); upgrade t5rag or index into a new store."
                : $"{path}: not a t5rag collection (schema version {version}); expected version {EmbeddedSchema.Version}.");
        }

        return (int)version;
    }

    /// <summary>The collection's settings, and the identity its saved HNSW graph is stamped with.</summary>
    private static (CollectionSettings Settings, string Owner, int Version) ReadSettings(string connectionString, string path)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        int version = CheckVersion(connection, path);
        string owner = $"{System.IO.Path.GetFileName(System.IO.Path.GetDirectoryName(path))}@{ReadMeta(connection, "created_at") ?? "0"}";
        return (ReadSettings(connection, path), owner, version);
    }

    private static CollectionSettings ReadSettings(SqliteConnection connection, string path)
    {
        string? dimensions = ReadMeta(connection, "dimensions");
        string? model = ReadMeta(connection, "model_id");
        if (dimensions is null || model is null || !int.TryParse(dimensions, CultureInfo.InvariantCulture, out int d) || d < 1)
        {
            throw new StoreException($"{path}: the collection's meta table lacks a valid 'dimensions' or 'model_id'; expected a collection created by t5rag.");
        }

        return new CollectionSettings(d, model, ReadMeta(connection, "query_prompt"), ReadMeta(connection, "passage_prompt"))
        {
            Record = ReadMeta(connection, "record_schema") is { } record ? RecordSchema.Parse(record, path) : null,
        };
    }

    private static string ConnectionStringFor(string path, SqliteOpenMode mode) => new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = mode,
        Pooling = true,
        DefaultTimeout = 30,
    }.ToString();
}
