using Microsoft.Data.Sqlite;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Indexer.Stores.Embedded;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Stores;

/// <summary>The embedded SQLite store: the contract, plus what only a file on disk can show.</summary>
public sealed partial class EmbeddedPassageStoreTests : PassageCollectionContract, IDisposable
{
    private static readonly CollectionSettings s_settings = new(Dimensions, "contract-model");
    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        this._directory.Dispose();
    }

    protected override IPassageStore? CreateStore(out string? skipReason)
    {
        skipReason = null;
        return EmbeddedPassageStore.Open(this._directory.Combine("store-" + Guid.NewGuid().ToString("N")[..8]));
    }

    [Fact]
    public async Task ACollectionPersistsAndAnotherInstanceSeesNewWrites()
    {
        string path = this._directory.Combine("shared");
        using var writer = EmbeddedPassageStore.Open(path);
        var written = await writer.OpenOrCreateCollectionAsync("kb", s_settings, TestContext.Current.CancellationToken);
        await written.UpsertDocumentsAsync([Update("one", ("first words", Axis(0)))], TestContext.Current.CancellationToken);

        // A second store instance stands for another process: it loads its own vector matrix from the file.
        using var reader = EmbeddedPassageStore.Open(path);
        var read = (await reader.OpenCollectionAsync("kb", TestContext.Current.CancellationToken))!;
        Assert.Equal("one", Assert.Single(await read.SearchAsync(Query(SearchMode.Dense, Axis(0), null, 5), TestContext.Current.CancellationToken)).Passage.DocumentId);

        await written.UpsertDocumentsAsync([Update("two", ("second words", Axis(1)))], TestContext.Current.CancellationToken);
        var after = await read.SearchAsync(Query(SearchMode.Dense, Axis(1), null, 5), TestContext.Current.CancellationToken);
        Assert.Equal(["two", "one"], after.Select(h => h.Passage.DocumentId));
        Assert.Equal(s_settings, read.Settings);
    }

    [Fact]
    public async Task ANewerSchemaIsRefusedWithItsVersion()
    {
        string path = this._directory.Combine("newer");
        using (var store = EmbeddedPassageStore.Open(path))
        {
            await store.OpenOrCreateCollectionAsync("kb", s_settings, TestContext.Current.CancellationToken);
        }

        SqliteConnection.ClearAllPools();
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(path, "kb", "collection.db")};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA user_version = 99";
            command.ExecuteNonQuery();
        }

        using var again = EmbeddedPassageStore.Open(path);
        var ex = await Assert.ThrowsAsync<StoreException>(() => again.OpenCollectionAsync("kb", TestContext.Current.CancellationToken));
        Assert.Contains("schema version 99 is newer", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStorePathThatIsAFileIsReported()
    {
        string path = this._directory.Write("occupied", "not a directory");
        using var store = EmbeddedPassageStore.Open(path);
        var ex = await Assert.ThrowsAsync<StoreException>(() => store.OpenOrCreateCollectionAsync("kb", s_settings, TestContext.Current.CancellationToken));
        Assert.Contains("not writable", ex.Message, StringComparison.Ordinal);
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Equal("not a directory", File.ReadAllText(path));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task AReadOnlyStoreDirectoryIsReportedAndStillSearchable()
    {
        string path = this._directory.Combine("readonly");
        using (var store = EmbeddedPassageStore.Open(path))
        {
            var collection = await store.OpenOrCreateCollectionAsync("kb", s_settings, TestContext.Current.CancellationToken);
            await collection.UpsertDocumentsAsync([Update("one", ("kept words", Axis(0)))], TestContext.Current.CancellationToken);
        }

        SqliteConnection.ClearAllPools();

        // Root writes through file permissions, so as root (CI) the store is seen through a read-only bind mount instead.
        Mount? view = null;
        string readOnlyPath = path;
        if (Environment.UserName == "root")
        {
            view = Mount.ReadOnlyBind(path, this._directory.Combine("readonly-view"), out string? reason);
            if (view is null)
            {
                Assert.Skip($"running as root, where file permissions do not stop writes, and a read-only bind mount cannot be made: {reason}");
            }

            readOnlyPath = view.Path;
        }
        else
        {
            File.SetUnixFileMode(Path.Combine(path, "kb"), UnixFileMode.UserRead | UnixFileMode.UserExecute);
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }

        try
        {
            using var store = EmbeddedPassageStore.Open(readOnlyPath);
            var collection = (await store.OpenCollectionAsync("kb", TestContext.Current.CancellationToken))!;
            var hit = Assert.Single(await collection.SearchAsync(Query(SearchMode.Hybrid, Axis(0), "kept", 5), TestContext.Current.CancellationToken));
            Assert.Equal("one", hit.Passage.DocumentId);

            var write = await Assert.ThrowsAsync<StoreException>(() => collection.UpsertDocumentsAsync([Update("two", ("new words", Axis(1)))], TestContext.Current.CancellationToken));
            Assert.Contains("read-only", write.Message, StringComparison.Ordinal);
            var create = await Assert.ThrowsAsync<StoreException>(() => store.OpenOrCreateCollectionAsync("another", s_settings, TestContext.Current.CancellationToken));
            Assert.Contains("not writable", create.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', create.Message);
        }
        finally
        {
            view?.Dispose();
            if (view is null)
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                File.SetUnixFileMode(Path.Combine(path, "kb"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        using var writable = EmbeddedPassageStore.Open(path);
        Assert.Equal(1, (await (await writable.OpenCollectionAsync("kb", TestContext.Current.CancellationToken))!.GetInfoAsync(TestContext.Current.CancellationToken)).Passages);
    }

    [Fact]
    public async Task SearchesDuringWritesSeeWholeWritesOnly()
    {
        using var store = EmbeddedPassageStore.Open(this._directory.Combine("concurrent"));
        var collection = await store.OpenOrCreateCollectionAsync("kb", s_settings, TestContext.Current.CancellationToken);
        await collection.UpsertDocumentsAsync([Update("doc", ("version0 alpha", Axis(0)), ("version0 beta", Axis(1)), ("version0 gamma", Axis(2)))], TestContext.Current.CancellationToken);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var writer = Task.Run(async () =>
        {
            for (int version = 1; version <= 60; version++)
            {
                // Every write replaces the document by three passages of one version, with more documents beside it.
                await collection.UpsertDocumentsAsync(
                [
                    Update("doc", ($"version{version} alpha", Axis(0)), ($"version{version} beta", Axis(1)), ($"version{version} gamma", Axis(2))),
                    Update($"extra-{version}", ($"extra {version}", Axis(3))),
                ], TestContext.Current.CancellationToken);
            }

            await stop.CancelAsync();
        }, TestContext.Current.CancellationToken);

        int searches = 0;
        var filter = new PassageFilter { DocumentIds = ["doc"] };
        while (!stop.IsCancellationRequested || searches == 0)
        {
            foreach (var mode in Enum.GetValues<SearchMode>())
            {
                var hits = await collection.SearchAsync(new SearchRequest(mode, 10) { Vector = Axis(0), Text = "alpha beta gamma", Filter = filter }, TestContext.Current.CancellationToken);
                Assert.Equal(3, hits.Count);
                Assert.Single(hits.Select(h => h.Passage.Text.Split(' ')[0]).Distinct());
                searches++;
            }
        }

        await writer;
        Assert.True(searches > 0);
        Assert.Equal(61, (await collection.GetInfoAsync(TestContext.Current.CancellationToken)).Documents);
    }
}
