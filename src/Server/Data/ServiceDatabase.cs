using Microsoft.Data.Sqlite;

namespace T5Gemma2.Rag.Server.Data;

/// <summary>
/// The service's own SQLite file: API keys (hashed) and ingestion jobs with their staged files. Kept apart from the
/// passage store, so replicas over one Qdrant cluster share keys and jobs through one file on a shared volume, and
/// the CLI's <c>t5rag keys</c> writes the same file the server reads.
/// </summary>
/// <remarks>
/// WAL with <c>synchronous = FULL</c>: a job acknowledged with 202 is on disk before the response leaves, whatever
/// happens to the process or the machine after. Connections are opened per operation (pooled by Microsoft.Data.Sqlite).
/// </remarks>
public sealed class ServiceDatabase
{
    private const int SchemaVersion = 1;

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS api_keys(
            name TEXT PRIMARY KEY,
            hash TEXT NOT NULL UNIQUE,
            prefix TEXT NOT NULL,
            role TEXT NOT NULL,
            collections TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT NULL);
        CREATE TABLE IF NOT EXISTS jobs(
            id TEXT PRIMARY KEY,
            collection TEXT NOT NULL,
            state TEXT NOT NULL,
            key_name TEXT NULL,
            tags TEXT NOT NULL,
            created_at TEXT NOT NULL,
            started_at TEXT NULL,
            finished_at TEXT NULL,
            passages INTEGER NOT NULL DEFAULT 0,
            progress REAL NOT NULL DEFAULT 0,
            documents_new INTEGER NOT NULL DEFAULT 0,
            documents_changed INTEGER NOT NULL DEFAULT 0,
            documents_unchanged INTEGER NOT NULL DEFAULT 0,
            interruptions INTEGER NOT NULL DEFAULT 0,
            error TEXT NULL);
        CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state, created_at);
        CREATE TABLE IF NOT EXISTS job_files(
            job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
            ordinal INTEGER NOT NULL,
            name TEXT NOT NULL,
            staged_path TEXT NOT NULL,
            bytes INTEGER NOT NULL,
            state TEXT NOT NULL,
            reason TEXT NULL,
            document_id TEXT NULL,
            PRIMARY KEY(job_id, ordinal));
        """;

    private readonly string _connectionString;

    private ServiceDatabase(string path)
    {
        this.Path = path;
        this._connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true, DefaultTimeout = 30 }.ToString();
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    /// <summary>
    /// The folder uploads are staged in before their job is acknowledged: <c>.uploads/</c> beside the database — a
    /// name no collection can have (none starts with '.'), as the database lies in the store directory by default.
    /// </summary>
    public string UploadsDirectory => System.IO.Path.Combine(System.IO.Path.GetDirectoryName(this.Path)!, ".uploads");

    /// <summary>Opens (creating when absent) the database at <paramref name="path"/> and brings its schema up to date.</summary>
    /// <exception cref="ServiceDatabaseException">The file cannot be opened or is not a service database.</exception>
    public static ServiceDatabase Open(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = System.IO.Path.GetFullPath(path);
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
            var database = new ServiceDatabase(full);
            using var connection = database.Connect();
            using var command = connection.CreateCommand();
            command.CommandText = Schema;
            command.ExecuteNonQuery();
            command.CommandText = "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', $version); SELECT value FROM meta WHERE key = 'schema';";
            command.Parameters.AddWithValue("$version", SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (command.ExecuteScalar() is not string version || version != SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                throw new ServiceDatabaseException($"{full}: service database schema {command.ExecuteScalar()}, expected {SchemaVersion}; this t5rag is older than the file.");
            }

            return database;
        }
        catch (Exception ex) when (ex is SqliteException or IOException or UnauthorizedAccessException)
        {
            throw new ServiceDatabaseException($"{full}: cannot open the service database ({ex.Message.Split('\n')[0]}).", ex);
        }
    }

    /// <summary>An open connection with the pragmas every operation needs.</summary>
    public SqliteConnection Connect()
    {
        var connection = new SqliteConnection(this._connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 30000;";
        pragma.ExecuteNonQuery();
        return connection;
    }
}
