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

    [Fact]
    public async Task ADamagedDatabaseIsOneLineNamingTheFileAndWhatToDo()
    {
        string original = this._directory.Combine("damaged-original");
        var random = new Random(3);
        using (var store = EmbeddedPassageStore.Open(original))
        {
            var collection = await store.OpenOrCreateCollectionAsync("kb", s_settings, TestContext.Current.CancellationToken);
            var documents = Enumerable.Range(0, 300).Select(i => Update($"doc{i}", ($"doc{i} " + string.Join(' ', Enumerable.Range(0, 300).Select(_ => random.Next(10_000))), Axis(i % Dimensions)))).ToList();
            await collection.UpsertDocumentsAsync(documents, TestContext.Current.CancellationToken);
        }

        SqliteConnection.ClearAllPools();
        (string Name, Action<string> Damage)[] damages =
        [
            ("truncated", file => { using var stream = File.OpenWrite(file); stream.SetLength(stream.Length / 2); }),
            ("header overwritten", file => Overwrite(file, 0, 4096)),
            ("pages overwritten", file => Overwrite(file, new FileInfo(file).Length / 3, 256 * 1024)),
        ];
        foreach (var (name, damage) in damages)
        {
            string path = this._directory.Combine("damaged-" + name.Replace(' ', '-'));
            Directory.CreateDirectory(Path.Combine(path, "kb"));
            string database = Path.Combine(path, "kb", "collection.db");
            File.Copy(Path.Combine(original, "kb", "collection.db"), database);
            damage(database);
            using var store = EmbeddedPassageStore.Open(path);
            var ex = await Assert.ThrowsAsync<StoreException>(async () =>
            {
                var collection = (await store.OpenCollectionAsync("kb", TestContext.Current.CancellationToken))!;
                await collection.SearchAsync(Query(SearchMode.Hybrid, Axis(1), "doc7", 5), TestContext.Current.CancellationToken);
                await collection.UpsertDocumentsAsync([Update("doc7", ("replaced", Axis(2)))], TestContext.Current.CancellationToken);
            });
            Assert.StartsWith($"{database}: not a readable collection database", ex.Message, StringComparison.Ordinal);
            Assert.EndsWith("restore it from a backup, or delete the collection (t5rag collections delete kb) and index again.", ex.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', ex.Message);
            SqliteConnection.ClearAllPools();
        }

        static void Overwrite(string file, long offset, int length)
        {
            using var stream = File.OpenWrite(file);
            stream.Position = offset;
            stream.Write([.. Enumerable.Repeat((byte)0xAB, length)]);
        }
    }

    [Fact]
    public async Task AMissingOrForeignHnswGraphIsRebuiltFromTheVectors()
    {
        var options = new EmbeddedStoreOptions { ExactSearchThreshold = 50 };
        var random = new Random(5);
        string[] paths = [this._directory.Combine("graph-a"), this._directory.Combine("graph-b")];
        var documents = new List<List<Indexer.Stores.DocumentUpdate>>();
        foreach (string path in paths)
        {
            // Two collections of the same size written the same way: the same rowids and generation, other vectors.
            var updates = Enumerable.Range(0, 120).Select(i => Update($"doc{i}", ($"text {i}", RandomVector(random, Dimensions)))).ToList();
            documents.Add(updates);
            using var store = EmbeddedPassageStore.Open(path, options);
            var collection = (EmbeddedPassageCollection)await store.OpenOrCreateCollectionAsync("kb", s_settings, TestContext.Current.CancellationToken);
            await collection.UpsertDocumentsAsync(updates, TestContext.Current.CancellationToken);
            await collection.PrepareSearchAsync(TestContext.Current.CancellationToken);
            Assert.True(collection.VectorIndexReady);
        }

        string graphB = Path.Combine(paths[1], "kb", "vectors.usearch");
        foreach (string suffix in new[] { "", ".generation" })
        {
            string from = Path.Combine(paths[0], "kb", "vectors.usearch") + suffix;
            File.Copy(from, graphB + suffix, overwrite: true);
            File.SetLastWriteTimeUtc(graphB + suffix, File.GetLastWriteTimeUtc(from));
        }

        await AssertRebuiltAsync();
        File.Delete(graphB);
        await AssertRebuiltAsync();

        async Task AssertRebuiltAsync()
        {
            using var store = EmbeddedPassageStore.Open(paths[1], options);
            var collection = (EmbeddedPassageCollection)(await store.OpenCollectionAsync("kb", TestContext.Current.CancellationToken))!;
            await collection.PrepareSearchAsync(TestContext.Current.CancellationToken);
            Assert.Equal((1, 0), (collection.VectorIndexBuilds, collection.VectorIndexLoads));
            Assert.True(collection.VectorIndexReady);
            foreach (var update in documents[1].Take(20))
            {
                var probe = update.Passages[0];
                var hits = await collection.SearchAsync(new SearchRequest(SearchMode.Dense, 1) { Vector = probe.Vector }, TestContext.Current.CancellationToken);
                Assert.Equal(probe.Passage.Id, hits[0].Passage.Id);
            }
        }
    }

    [Fact]
    public async Task ClosingWhileSearchesRunNeverFailsOnTheLock()
    {
        var options = new EmbeddedStoreOptions { ExactSearchThreshold = 50 };
        var unexpected = new List<Exception>();
        for (int round = 0; round < 40; round++)
        {
            using var store = EmbeddedPassageStore.Open(this._directory.Combine($"closing-{round}"), options);
            var collection = await store.OpenOrCreateCollectionAsync("kb", s_settings, TestContext.Current.CancellationToken);
            await collection.UpsertDocumentsAsync([.. Enumerable.Range(0, 60).Select(i => Update($"doc{i}", ($"text {i}", Axis(i % Dimensions))))], TestContext.Current.CancellationToken);
            using var started = new CountdownEvent(4);
            var searches = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                started.Signal();
                while (true)
                {
                    try
                    {
                        await collection.SearchAsync(Query(SearchMode.Dense, Axis(1), null, 3), TestContext.Current.CancellationToken);
                    }
                    catch (ObjectDisposedException)
                    {
                        return;
                    }
                }
            })).ToArray();
            started.Wait(TestContext.Current.CancellationToken);
            try
            {
                collection.Dispose();
            }
            catch (Exception ex)
            {
                unexpected.Add(ex);
            }

            foreach (var search in searches)
            {
                try
                {
                    await search.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
                }
                catch (Exception ex)
                {
                    unexpected.Add(ex);
                }
            }
        }

        Assert.True(unexpected.Count == 0, string.Join("\n", unexpected.Select(e => $"{e.GetType().Name}: {e.Message}").Distinct()));
    }

    [Fact]
    public async Task SavingTheGraphIntoADeletedDirectoryDoesNotThrowFromDispose()
    {
        // Another process deletes the collection (t5rag collections delete) while this one holds it with a graph to save.
        string path = this._directory.Combine("deleted-under");
        var store = EmbeddedPassageStore.Open(path, new EmbeddedStoreOptions { ExactSearchThreshold = 50 });
        var collection = (EmbeddedPassageCollection)await store.OpenOrCreateCollectionAsync("kb", s_settings, TestContext.Current.CancellationToken);
        await collection.UpsertDocumentsAsync([.. Enumerable.Range(0, 60).Select(i => Update($"doc{i}", ($"text {i}", Axis(i % Dimensions))))], TestContext.Current.CancellationToken);
        await collection.PrepareSearchAsync(TestContext.Current.CancellationToken);
        await collection.UpsertDocumentsAsync([Update("doc1", ("changed", Axis(3)))], TestContext.Current.CancellationToken);
        Assert.True(collection.VectorIndexReady);
        SqliteConnection.ClearAllPools();
        Directory.Delete(Path.Combine(path, "kb"), recursive: true);

        var ex = Record.Exception(store.Dispose);
        Assert.Null(ex);
        Assert.False(Directory.Exists(Path.Combine(path, "kb")));
    }

    private static Process StartIndex(string store, params string[] paths) =>
        T5ragProcess.Start(["index", .. paths, "--store", store, "--model", TestAssets.MiniLmDirectory, "--threads", "1"]);

    private static Task<(int ExitCode, string Out, string Error)> Finish(Process process) => T5ragProcess.FinishAsync(process, TimeSpan.FromMinutes(5));

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
