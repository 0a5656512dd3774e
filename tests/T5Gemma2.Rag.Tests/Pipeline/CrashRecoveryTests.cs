using System.Diagnostics;
using Microsoft.Data.Sqlite;
using T5Gemma2.Rag.Tests.Cli;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Pipeline;

/// <summary>
/// `t5rag index` killed with SIGKILL at several points, then run again, ends with exactly the passages of a clean
/// run: no duplicates, no losses, a consistent full-text index. Real child processes, real files, real SQLite.
/// </summary>
public sealed class CrashRecoveryTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        this._directory.Dispose();
    }

    [Fact]
    public async Task KilledRunsRerunToTheSameStoreAsACleanRun()
    {
        string docs = this._directory.Combine("docs");
        TestCorpus.WriteMarkdown(docs, TestCorpus.Records(120));
        string clean = this._directory.Combine("clean"), crashed = this._directory.Combine("crashed");

        Assert.Equal(0, await RunAsync(docs, clean, killWhen: null));
        var expected = Snapshot(clean);
        Assert.True(expected.Passages.Count >= 120);

        // Killed while loading the model, after the first write, and about half way; then run to the end.
        Assert.Equal(-1, await RunAsync(docs, crashed, killWhen: (elapsed, _) => elapsed > TimeSpan.FromMilliseconds(300)));
        Assert.Equal(-1, await RunAsync(docs, crashed, killWhen: (_, passages) => passages >= 1));
        Assert.Equal(-1, await RunAsync(docs, crashed, killWhen: (_, passages) => passages >= expected.Passages.Count / 2));
        var partial = Snapshot(crashed);
        Assert.True(partial.Passages.Count < expected.Passages.Count, "the last kill landed before the end");
        Assert.Equal(0, await RunAsync(docs, crashed, killWhen: null));

        var recovered = Snapshot(crashed);
        Assert.Equal(expected.Documents, recovered.Documents);
        Assert.Equal(expected.Passages, recovered.Passages);
        Assert.Equal(recovered.Passages.Count, recovered.Rows);
    }

    /// <summary>Runs the CLI in a child process; kills it (SIGKILL) when the condition holds. Returns its exit code, or -1 when killed.</summary>
    private static async Task<int> RunAsync(string docs, string store, Func<TimeSpan, int, bool>? killWhen)
    {
        using var process = CliRunner.StartProcess("index", docs, "--store", store, "--model", TestAssets.MiniLmDirectory, "--embed-batch", "8");
        var drainOut = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var drainError = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        var clock = Stopwatch.StartNew();
        while (!process.HasExited)
        {
            if (killWhen is not null && killWhen(clock.Elapsed, (int)CollectionDatabase.Count(store, "SELECT count(*) FROM passages")))
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(TestContext.Current.CancellationToken);
                await Task.WhenAll(drainOut, drainError);
                return -1;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(3), "t5rag index did not finish in 3 minutes");
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        await Task.WhenAll(drainOut, drainError);
        Assert.True(process.ExitCode == 0 || killWhen is not null, $"t5rag index exited {process.ExitCode}: {await drainError}");
        return killWhen is null ? process.ExitCode : throw new InvalidOperationException($"the run ended (exit {process.ExitCode}) before the kill condition held; output: {await drainOut}");
    }

    private static (SortedSet<string> Documents, SortedSet<string> Passages, long Rows) Snapshot(string store)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(store, "default", "collection.db")};Pooling=False");
        connection.Open();
        using (var check = connection.CreateCommand())
        {
            // Throws when the full-text index and the passages disagree.
            check.CommandText = "INSERT INTO passages_fts(passages_fts) VALUES ('integrity-check')";
            check.ExecuteNonQuery();
        }

        var documents = new SortedSet<string>(StringComparer.Ordinal);
        var passages = new SortedSet<string>(StringComparer.Ordinal);
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT id, content_hash, passage_count FROM documents";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                documents.Add($"{reader.GetString(0)}|{reader.GetString(1)}|{reader.GetInt32(2)}");
            }
        }

        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT id, document_id, chunk_index, content_hash, length(vector) FROM passages";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                passages.Add($"{reader.GetString(0)}|{reader.GetString(1)}|{reader.GetInt32(2)}|{reader.GetString(3)}|{reader.GetInt64(4)}");
            }
        }

        using var rows = connection.CreateCommand();
        rows.CommandText = "SELECT count(*) FROM passages";
        return (documents, passages, (long)rows.ExecuteScalar()!);
    }
}
