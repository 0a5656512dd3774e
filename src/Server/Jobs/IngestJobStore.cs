using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using T5Gemma2.Rag.Server.Data;

namespace T5Gemma2.Rag.Server.Jobs;

/// <summary>
/// The ingestion jobs in the service database (tables <c>jobs</c> and <c>job_files</c>): each change one transaction
/// with <c>synchronous = FULL</c>, so what a 202 acknowledged, and how far the worker got, outlive the process.
/// </summary>
public sealed class IngestJobStore
{
    private const string JobColumns = "id, collection, state, key_name, tags, created_at, started_at, finished_at, passages, progress, documents_new, documents_changed, documents_unchanged, error";

    private readonly ServiceDatabase _database;

    public IngestJobStore(ServiceDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        this._database = database;
    }

    /// <summary>A new job id: 32 lower-case hex digits, ordered by time.</summary>
    public static string NewId() => Guid.CreateVersion7().ToString("N", CultureInfo.InvariantCulture);

    /// <summary>Whether <paramref name="id"/> has the shape of a job id (what a path or a staging folder must have to be one).</summary>
    public static bool IsId(string? id) => id is { Length: 32 } && id.All(char.IsAsciiHexDigitLower);

    /// <summary>The folder each job's files are staged in (<c>{job id}/</c> under it).</summary>
    public string UploadsDirectory => this._database.UploadsDirectory;

    /// <summary>Jobs queued or running: what the queue bound counts.</summary>
    public int CountActive()
    {
        using var connection = this._database.Connect();
        return CountActive(connection, null);
    }

    /// <summary>Jobs queued and jobs running, apart: what the queue depth gauge reports.</summary>
    public (int Queued, int Running) CountActiveByState()
    {
        using var connection = this._database.Connect();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT state, COUNT(*) FROM jobs WHERE state IN ('{Name(IngestJobState.Queued)}', '{Name(IngestJobState.Running)}') GROUP BY state";
        using var reader = command.ExecuteReader();
        var (queued, running) = (0, 0);
        while (reader.Read())
        {
            if (Parse<IngestJobState>(reader.GetString(0)) == IngestJobState.Queued)
            {
                queued = reader.GetInt32(1);
            }
            else
            {
                running = reader.GetInt32(1);
            }
        }

        return (queued, running);
    }

    /// <summary>
    /// Inserts a queued job and its files in one transaction, unless <paramref name="maxActive"/> jobs are queued or
    /// running already (counted inside the same transaction, so two uploads at once cannot both take the last place).
    /// </summary>
    /// <returns>False when the queue is full (nothing was inserted).</returns>
    public bool Insert(IngestJob job, int maxActive)
    {
        ArgumentNullException.ThrowIfNull(job);
        using var connection = this._database.Connect();
        using var transaction = connection.BeginTransaction(deferred: false);
        if (CountActive(connection, transaction) >= maxActive)
        {
            return false;
        }

        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "INSERT INTO jobs(id, collection, state, key_name, tags, created_at) VALUES ($id, $collection, $state, $key, $tags, $created)";
            command.Parameters.AddWithValue("$id", job.Id);
            command.Parameters.AddWithValue("$collection", job.Collection);
            command.Parameters.AddWithValue("$state", Name(IngestJobState.Queued));
            command.Parameters.AddWithValue("$key", (object?)job.KeyName ?? DBNull.Value);
            command.Parameters.AddWithValue("$tags", JsonSerializer.Serialize(job.Tags));
            command.Parameters.AddWithValue("$created", Time(job.CreatedAt));
            command.ExecuteNonQuery();
        }

        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "INSERT INTO job_files(job_id, ordinal, name, staged_path, bytes, state, document_id) VALUES ($job, $ordinal, $name, $staged, $bytes, $state, $document)";
            var ordinal = command.Parameters.Add("$ordinal", SqliteType.Integer);
            var name = command.Parameters.Add("$name", SqliteType.Text);
            var staged = command.Parameters.Add("$staged", SqliteType.Text);
            var bytes = command.Parameters.Add("$bytes", SqliteType.Integer);
            var document = command.Parameters.Add("$document", SqliteType.Text);
            command.Parameters.AddWithValue("$job", job.Id);
            command.Parameters.AddWithValue("$state", Name(IngestFileState.Queued));
            foreach (var file in job.Files)
            {
                ordinal.Value = file.Ordinal;
                name.Value = file.Name;
                staged.Value = file.StagedPath;
                bytes.Value = file.Bytes;
                document.Value = file.DocumentId;
                command.ExecuteNonQuery();
            }
        }

        transaction.Commit();
        return true;
    }

    /// <summary>The job with its files, or null when there is none of that id.</summary>
    public IngestJob? Get(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        using var connection = this._database.Connect();
        return Read(connection, $"SELECT {JobColumns} FROM jobs WHERE id = $id", id);
    }

    /// <summary>The queued job accepted first, or null when none waits.</summary>
    public IngestJob? NextQueued()
    {
        using var connection = this._database.Connect();
        return Read(connection, $"SELECT {JobColumns} FROM jobs WHERE state = '{Name(IngestJobState.Queued)}' ORDER BY rowid LIMIT 1", null);
    }

    /// <summary>The ids of the jobs not finished (queued or running): whose staged files must stay.</summary>
    public HashSet<string> UnfinishedIds()
    {
        using var connection = this._database.Connect();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT id FROM jobs WHERE state IN ('{Name(IngestJobState.Queued)}', '{Name(IngestJobState.Running)}')";
        using var reader = command.ExecuteReader();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    /// <summary>Marks the job running from now, its progress and files back at the start.</summary>
    public void Start(string id, DateTimeOffset now)
    {
        using var connection = this._database.Connect();
        using var transaction = connection.BeginTransaction(deferred: false);
        Execute(connection, transaction, "UPDATE jobs SET state = $running, started_at = $now, progress = 0 WHERE id = $id", ("$running", Name(IngestJobState.Running)), ("$now", Time(now)), ("$id", id));
        Execute(connection, transaction, "UPDATE job_files SET state = $queued, reason = NULL WHERE job_id = $id", ("$queued", Name(IngestFileState.Queued)), ("$id", id));
        transaction.Commit();
    }

    /// <summary>Records how far the running job got (0 to 1).</summary>
    public void SetProgress(string id, double progress)
    {
        using var connection = this._database.Connect();
        Execute(connection, null, "UPDATE jobs SET progress = $progress WHERE id = $id", ("$progress", progress), ("$id", id));
    }

    /// <summary>A job the process died under this many times is not run again: the next start fails it, so one file that kills the process cannot make the server crash in a loop.</summary>
    public const int MaxInterruptions = 3;

    /// <summary>
    /// Puts jobs left running (by a process that was killed or stopped) back in the queue, counting the interruption;
    /// a job interrupted <see cref="MaxInterruptions"/> times is failed instead, each file with the reason. Returns how
    /// many were requeued and how many failed.
    /// </summary>
    public (int Requeued, int Failed) RequeueRunning(DateTimeOffset now)
    {
        using var connection = this._database.Connect();
        using var transaction = connection.BeginTransaction(deferred: false);
        Execute(connection, transaction, "UPDATE jobs SET interruptions = interruptions + 1 WHERE state = $running", ("$running", Name(IngestJobState.Running)));
        string reason = $"the server stopped {MaxInterruptions} times while running this job; it is not run again (a file in it may crash the process: upload the files one at a time to find which)";
        Execute(connection, transaction, "UPDATE job_files SET state = $failed, reason = $reason WHERE job_id IN (SELECT id FROM jobs WHERE state = $running AND interruptions >= $max)", ("$failed", Name(IngestFileState.Failed)), ("$reason", reason), ("$running", Name(IngestJobState.Running)), ("$max", MaxInterruptions));
        int failed = Execute(connection, transaction, "UPDATE jobs SET state = $failed, finished_at = $now, error = $reason WHERE state = $running AND interruptions >= $max", ("$failed", Name(IngestJobState.Failed)), ("$now", Time(now)), ("$reason", reason), ("$running", Name(IngestJobState.Running)), ("$max", MaxInterruptions));
        int requeued = Execute(connection, transaction, "UPDATE jobs SET state = $queued, progress = 0 WHERE state = $running", ("$queued", Name(IngestJobState.Queued)), ("$running", Name(IngestJobState.Running)));
        transaction.Commit();
        return (requeued, failed);
    }

    /// <summary>Puts one running job back in the queue (the server is stopping in the middle of it).</summary>
    public void Requeue(string id)
    {
        using var connection = this._database.Connect();
        Execute(connection, null, "UPDATE jobs SET state = $queued, progress = 0 WHERE id = $id AND state = $running", ("$queued", Name(IngestJobState.Queued)), ("$running", Name(IngestJobState.Running)), ("$id", id));
    }

    /// <summary>Records the end of the job's run — its state, counts and each file's end — in one transaction.</summary>
    public void Finish(string id, IngestJobOutcome outcome, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        using var connection = this._database.Connect();
        using var transaction = connection.BeginTransaction(deferred: false);
        Execute(
            connection,
            transaction,
            "UPDATE jobs SET state = $state, finished_at = $now, passages = $passages, progress = 1, documents_new = $new, documents_changed = $changed, documents_unchanged = $unchanged, error = $error WHERE id = $id",
            ("$state", Name(outcome.State)),
            ("$now", Time(now)),
            ("$passages", outcome.Passages),
            ("$new", outcome.DocumentsNew),
            ("$changed", outcome.DocumentsChanged),
            ("$unchanged", outcome.DocumentsUnchanged),
            ("$error", outcome.Error),
            ("$id", id));
        foreach (var (ordinal, state, reason) in outcome.Files)
        {
            Execute(connection, transaction, "UPDATE job_files SET state = $state, reason = $reason WHERE job_id = $id AND ordinal = $ordinal", ("$state", Name(state)), ("$reason", reason), ("$id", id), ("$ordinal", ordinal));
        }

        transaction.Commit();
    }

    /// <summary>A state as the database and the API spell it: <c>completed_with_errors</c>.</summary>
    internal static string Name<TState>(TState state)
        where TState : struct, Enum => JsonNamingPolicy.SnakeCaseLower.ConvertName(state.ToString());

    private static TState Parse<TState>(string name)
        where TState : struct, Enum => Enum.Parse<TState>(name.Replace("_", string.Empty, StringComparison.Ordinal), ignoreCase: true);

    private static string Time(DateTimeOffset time) => time.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset? Time(SqliteDataReader reader, int column) =>
        reader.IsDBNull(column) ? null : DateTimeOffset.Parse(reader.GetString(column), CultureInfo.InvariantCulture);

    private static int CountActive(SqliteConnection connection, SqliteTransaction? transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT COUNT(*) FROM jobs WHERE state IN ('{Name(IngestJobState.Queued)}', '{Name(IngestJobState.Running)}')";
        return Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static int Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command.ExecuteNonQuery();
    }

    private static IngestJob? Read(SqliteConnection connection, string sql, string? id)
    {
        using var transaction = connection.BeginTransaction(deferred: true);
        IngestJob job;
        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = sql;
            if (id is not null)
            {
                command.Parameters.AddWithValue("$id", id);
            }

            using var reader = command.ExecuteReader();
            if (!reader.Read())
            {
                return null;
            }

            job = new IngestJob(
                reader.GetString(0),
                reader.GetString(1),
                Parse<IngestJobState>(reader.GetString(2)),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(4)) ?? [],
                Time(reader, 5)!.Value,
                Time(reader, 6),
                Time(reader, 7),
                reader.GetInt64(8),
                reader.GetDouble(9),
                reader.GetInt32(10),
                reader.GetInt32(11),
                reader.GetInt32(12),
                reader.IsDBNull(13) ? null : reader.GetString(13),
                []);
        }

        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "SELECT ordinal, name, staged_path, bytes, state, reason, document_id FROM job_files WHERE job_id = $id ORDER BY ordinal";
            command.Parameters.AddWithValue("$id", job.Id);
            using var reader = command.ExecuteReader();
            var files = new List<IngestJobFile>();
            while (reader.Read())
            {
                files.Add(new IngestJobFile(
                    reader.GetInt32(0),
                    reader.GetString(1),
                    reader.GetString(2),
                    reader.GetInt64(3),
                    Parse<IngestFileState>(reader.GetString(4)),
                    reader.IsDBNull(5) ? null : reader.GetString(5),
                    reader.IsDBNull(6) ? string.Empty : reader.GetString(6)));
            }

            transaction.Commit();
            return job with { Files = files };
        }
    }
}
