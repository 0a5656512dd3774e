using System.Diagnostics;
using Microsoft.Data.Sqlite;
using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Indexer.Stores.Embedded;
using T5Gemma2.Rag.Tests.Cli;
using T5Gemma2.Rag.Tests.Infrastructure;
using T5Gemma2.Rag.Tests.Pipeline;

namespace T5Gemma2.Rag.Tests.Stores;

/// <summary>Faults of the embedded store caused for real: two writing processes, a full disk, a held write lock.</summary>
public sealed partial class EmbeddedPassageStoreTests
{
    private static readonly CollectionSettings s_miniLmSettings = new(384, "sentence-transformers/all-MiniLM-L6-v2");

    [Fact]
    public async Task TwoIndexProcessesOnOneStoreTakeTurnsAndLoseOrDuplicateNothing()
    {
        // Each process indexes a folder of its own and one they share, into a store neither has created yet.
        string[] folders = ["a", "b", "shared"];
        var files = new List<string>();
        foreach (string folder in folders)
        {
            files.AddRange(TestCorpus.WriteMarkdown(this._directory.Combine(folder), TestCorpus.Records(24).Select(r => (r.Id, $"{folder} {r.Title}", r.Text))));
        }

        string store = this._directory.Combine("two-writers");
        using var first = StartIndex(store, this._directory.Combine("a"), this._directory.Combine("shared"));
        using var second = StartIndex(store, this._directory.Combine("b"), this._directory.Combine("shared"));
        var results = await Task.WhenAll(Finish(first), Finish(second));
        foreach (var (code, stdout, stderr) in results)
        {
            Assert.True(code == 0, $"exit {code}: {stderr}");
            Assert.DoesNotContain("internal error", stderr, StringComparison.Ordinal);
            Assert.Contains("documents: ", stdout, StringComparison.Ordinal);
        }

        using var connection = new SqliteConnection($"Data Source={Path.Combine(store, "default", "collection.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        Assert.Equal(files.Count, Count(connection, "SELECT count(*) FROM documents"));
        Assert.Equal(files.Select(Path.GetFullPath).Order(StringComparer.Ordinal), Strings(connection, "SELECT source FROM documents ORDER BY source COLLATE BINARY"));
        long passages = Count(connection, "SELECT count(*) FROM passages");
        Assert.True(passages >= files.Count, $"{passages} passages for {files.Count} documents");
        Assert.Equal(passages, Count(connection, "SELECT count(DISTINCT id) FROM passages"));
        Assert.Equal(passages, Count(connection, "SELECT sum(passage_count) FROM documents"));
        Assert.Equal(0, Count(connection, "SELECT count(*) FROM documents d WHERE d.passage_count != (SELECT count(*) FROM passages p WHERE p.document_id = d.id)"));
        Assert.Equal(passages, Count(connection, "SELECT count(*) FROM passages_fts"));
    }

    [Fact]
    public async Task AWriteWaitsForAnotherProcessesWriteAndGivesUpAfterTheWaitInOneLine()
    {
        string path = this._directory.Combine("busy");
        using var store = EmbeddedPassageStore.Open(path, new EmbeddedStoreOptions { WriteWait = TimeSpan.FromSeconds(1) });
        var collection = await store.OpenOrCreateCollectionAsync("kb", s_settings, TestContext.Current.CancellationToken);
        await collection.UpsertDocumentsAsync([Update("one", ("first words", Axis(0)))], TestContext.Current.CancellationToken);

        // Another process's write, for SQLite: a second connection holding the file's write lock.
        string database = Path.Combine(path, "kb", "collection.db");
        using (var holder = new SqliteConnection($"Data Source={database};Pooling=False"))
        {
            holder.Open();
            using var held = holder.BeginTransaction(deferred: false);
            var stopwatch = Stopwatch.StartNew();
            var ex = await Assert.ThrowsAsync<StoreWriteException>(() => collection.UpsertDocumentsAsync([Update("two", ("second words", Axis(1)))], TestContext.Current.CancellationToken));
            Assert.Equal(StoreWriteFault.Busy, ex.Fault);
            Assert.StartsWith($"{database}: another process held the collection's write lock", ex.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', ex.Message);
            Assert.InRange(stopwatch.Elapsed.TotalSeconds, 0.9, 10);
            held.Rollback();
        }

        // A lock released within the wait is waited for.
        using var patient = EmbeddedPassageStore.Open(this._directory.Combine("busy"), new EmbeddedStoreOptions { WriteWait = TimeSpan.FromSeconds(20) });
        var again = (await patient.OpenCollectionAsync("kb", TestContext.Current.CancellationToken))!;
        using (var holder = new SqliteConnection($"Data Source={database};Pooling=False"))
        {
            holder.Open();
            var held = holder.BeginTransaction(deferred: false);
            var release = Task.Run(async () =>
            {
                await Task.Delay(1500, TestContext.Current.CancellationToken);
                held.Rollback();
                held.Dispose();
            }, TestContext.Current.CancellationToken);
            await again.UpsertDocumentsAsync([Update("two", ("second words", Axis(1)))], TestContext.Current.CancellationToken);
            await release;
        }

        Assert.Equal(["one", "two"], (await again.GetDocumentsAsync(TestContext.Current.CancellationToken)).Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AFullDiskStopsAWriteWholeKeepsWhatWasAcknowledgedAndIsExitSixInTheCli()
    {
        using var disk = Mount.TmpFs(this._directory.Combine("small-disk"), mebibytes: 2, out string? reason);
        if (disk is null)
        {
            Assert.Skip($"a full disk cannot be made here: {reason}");
        }

        string path = Path.Combine(disk.Path, "store");
        var acknowledged = new List<string>();
        var random = new Random(7);
        StoreWriteException? full = null;
        using (var store = EmbeddedPassageStore.Open(path))
        {
            var collection = await store.OpenOrCreateCollectionAsync("default", s_miniLmSettings, TestContext.Current.CancellationToken);
            for (int i = 0; i < 2_000 && full is null; i++)
            {
                string id = $"doc{i:D4}";
                var passages = Enumerable.Range(0, 8).Select(p => (Text: $"{id} passage {p} " + string.Join(' ', Enumerable.Range(0, 60).Select(_ => random.Next(100_000))), Vector: RandomVector(random, 384))).ToArray();
                try
                {
                    await collection.UpsertDocumentsAsync([Update(id, passages)], TestContext.Current.CancellationToken);
                    acknowledged.Add(id);
                }
                catch (StoreWriteException ex)
                {
                    full = ex;
                }
            }
        }

        Assert.NotNull(full);
        Assert.Equal(StoreWriteFault.DiskFull, full.Fault);
        Assert.StartsWith($"{Path.Combine(path, "default", "collection.db")}: the disk is full", full.Message, StringComparison.Ordinal);
        Assert.NotEmpty(acknowledged);

        // Opened again, the store holds every acknowledged document whole, and nothing of the refused one.
        SqliteConnection.ClearAllPools();
        using (var reopened = EmbeddedPassageStore.Open(path))
        {
            var collection = (await reopened.OpenCollectionAsync("default", TestContext.Current.CancellationToken))!;
            var documents = await collection.GetDocumentsAsync(TestContext.Current.CancellationToken);
            Assert.Equal(acknowledged, documents.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(acknowledged.Count * 8L, (await collection.GetInfoAsync(TestContext.Current.CancellationToken)).Passages);
            var hit = Assert.Single(await collection.SearchAsync(new SearchRequest(SearchMode.Keyword, 1) { Text = $"{acknowledged[^1]} passage 3" }, TestContext.Current.CancellationToken));
            Assert.Equal(acknowledged[^1], hit.Passage.DocumentId);
        }

        SqliteConnection.ClearAllPools();
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(path, "default", "collection.db")};Mode=ReadOnly;Pooling=False"))
        {
            connection.Open();
            Assert.Equal(["ok"], Strings(connection, "PRAGMA integrity_check"));
        }

        // The CLI on the full disk: one line, its own exit code.
        string file = this._directory.Write("more/new.md", "# New\n\nA document that no longer fits on the disk. " + string.Join(' ', Enumerable.Range(0, 400)));
        var (code, _, error) = await CliRunner.RunAsync("index", file, "--store", path, "--model", TestAssets.MiniLmDirectory);
        Assert.True(code == ExitCodes.StoreWriteFailed, $"exit {code}: {error}");
        string line = Assert.Single(error.Trim().Split('\n'), l => !l.StartsWith("indexing into", StringComparison.Ordinal));
        Assert.Contains("the disk is full", line, StringComparison.Ordinal);
    }

    private static Process StartIndex(string store, params string[] paths)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in (string[])["exec", Path.Combine(AppContext.BaseDirectory, "t5rag.dll"), "index", .. paths, "--store", store, "--model", TestAssets.MiniLmDirectory, "--threads", "1"])
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }

    private static async Task<(int Code, string Out, string Error)> Finish(Process process)
    {
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    private static long Count(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static List<string> Strings(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var values = new List<string>();
        while (reader.Read())
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }

    private static float[] RandomVector(Random random, int dimensions) => [.. Enumerable.Range(0, dimensions).Select(_ => (float)(random.NextDouble() - 0.5))];
}
