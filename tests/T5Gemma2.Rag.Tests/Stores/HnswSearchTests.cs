using System.Globalization;
using System.Runtime.InteropServices;
using Cloud.Unum.USearch;
using Microsoft.Data.Sqlite;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Indexer.Stores.Embedded;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Stores;

/// <summary>
/// The embedded store's approximate path: the contract with every search going through the HNSW graph (threshold 1),
/// and, on a few thousand random vectors past a threshold of 500, recall against the exact scan, the graph following
/// writes, its file reused on reopen (and an older format's rebuilt), filters, and searches and writes while a larger
/// graph builds on its own thread.
/// </summary>
public sealed class HnswSearchTests : PassageCollectionContract, IDisposable
{
    private const int Wide = 32;
    private static readonly CollectionSettings s_wide = new(Wide, "hnsw-model");
    private static readonly EmbeddedStoreOptions s_approximate = new() { ExactSearchThreshold = 500 };
    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        this._directory.Dispose();
    }

    protected override IPassageStore? CreateStore(out string? skipReason)
    {
        skipReason = null;
        return EmbeddedPassageStore.Open(this._directory.Combine("store-" + Guid.NewGuid().ToString("N")[..8]), new EmbeddedStoreOptions { ExactSearchThreshold = 1 });
    }

    [Fact]
    public async Task RecallAtTenAgainstTheExactScanIsAtLeast95Percent()
    {
        using var store = EmbeddedPassageStore.Open(this._directory.Combine("recall"), s_approximate);
        var collection = (EmbeddedPassageCollection)await store.OpenOrCreateCollectionAsync("kb", s_wide, TestContext.Current.CancellationToken);
        var random = new Random(11);
        await collection.UpsertDocumentsAsync(Documents(random, 0, 300, 10), TestContext.Current.CancellationToken);

        double recall = await RecallAsync(collection, random, PassageFilter.None, 50);
        Assert.True(recall >= 0.95, $"recall@10 {recall:F3}");
        Assert.Equal(1, collection.VectorIndexBuilds);
    }

    [Fact]
    public async Task TheGraphFollowsUpdatesAndDeletes()
    {
        using var store = EmbeddedPassageStore.Open(this._directory.Combine("updates"), s_approximate);
        var collection = (EmbeddedPassageCollection)await store.OpenOrCreateCollectionAsync("kb", s_wide, TestContext.Current.CancellationToken);
        var random = new Random(12);
        var original = Documents(random, 0, 200, 10);
        await collection.UpsertDocumentsAsync(original, TestContext.Current.CancellationToken);
        await collection.PrepareSearchAsync(TestContext.Current.CancellationToken);
        Assert.Equal(1, collection.VectorIndexBuilds);

        // Delete 20 documents, replace 20 by new passages, add 20 new documents; the graph is edited, not rebuilt.
        var deleted = original.Take(20).ToList();
        var replaced = original.Skip(20).Take(20).ToList();
        Assert.Equal(20, await collection.DeleteDocumentsAsync([.. deleted.Select(d => d.Document.DocumentId)], TestContext.Current.CancellationToken));
        var replacements = replaced.Select(d => Update(d.Document.DocumentId, [.. Enumerable.Range(0, 5).Select(p => ($"replacement {d.Document.DocumentId} {p}", Unit(random)))])).ToList();
        var added = Documents(random, 200, 20, 10);
        await collection.UpsertDocumentsAsync([.. replacements, .. added], TestContext.Current.CancellationToken);
        Assert.Equal(1, collection.VectorIndexBuilds);

        var gone = deleted.Concat(replaced).SelectMany(d => d.Passages).ToList();
        var goneIds = gone.Select(p => p.Passage.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var passage in gone.Take(60))
        {
            var hits = await collection.SearchAsync(new SearchRequest(SearchMode.Dense, 10) { Vector = passage.Vector }, TestContext.Current.CancellationToken);
            Assert.Equal(10, hits.Count);
            Assert.DoesNotContain(hits, h => goneIds.Contains(h.Passage.Id));
        }

        foreach (var passage in replacements.Concat(added).SelectMany(d => d.Passages).Take(60))
        {
            var hits = await collection.SearchAsync(new SearchRequest(SearchMode.Dense, 10) { Vector = passage.Vector }, TestContext.Current.CancellationToken);
            Assert.Equal(passage.Passage.Id, hits[0].Passage.Id);
            Assert.Equal(1.0, hits[0].Score, 4);
        }

        Assert.True(await RecallAsync(collection, random, PassageFilter.None, 30) >= 0.95);
    }

    [Fact]
    public async Task TheSavedGraphIsReusedOnReopenAndRebuiltWhenStale()
    {
        string path = this._directory.Combine("reuse");
        var random = new Random(13);
        var documents = Documents(random, 0, 150, 10);
        var probe = documents[77].Passages[3];
        using (var store = EmbeddedPassageStore.Open(path, s_approximate))
        {
            var collection = (EmbeddedPassageCollection)await store.OpenOrCreateCollectionAsync("kb", s_wide, TestContext.Current.CancellationToken);
            await collection.UpsertDocumentsAsync(documents, TestContext.Current.CancellationToken);
            await collection.PrepareSearchAsync(TestContext.Current.CancellationToken);
            Assert.Equal(1, collection.VectorIndexBuilds);
        }

        Assert.True(File.Exists(Path.Combine(path, "kb", "vectors.usearch")));
        Assert.True(File.Exists(Path.Combine(path, "kb", "vectors.usearch.generation")));

        // Another instance (another process) loads the saved graph instead of building one.
        using var reader = EmbeddedPassageStore.Open(path, s_approximate);
        var read = (EmbeddedPassageCollection)(await reader.OpenCollectionAsync("kb", TestContext.Current.CancellationToken))!;
        var hits = await read.SearchAsync(new SearchRequest(SearchMode.Dense, 5) { Vector = probe.Vector }, TestContext.Current.CancellationToken);
        Assert.Equal(probe.Passage.Id, hits[0].Passage.Id);
        Assert.Equal((0, 1), (read.VectorIndexBuilds, read.VectorIndexLoads));

        // A write by yet another instance: the reader's next search edits its graph to match, still without a rebuild.
        var fresh = Update("fresh", ("a fresh passage", Unit(random)));
        using (var writer = EmbeddedPassageStore.Open(path, s_approximate))
        {
            var written = await writer.OpenCollectionAsync("kb", TestContext.Current.CancellationToken);
            await written!.UpsertDocumentsAsync([fresh], TestContext.Current.CancellationToken);
            await written.DeleteDocumentsAsync([documents[77].Document.DocumentId], TestContext.Current.CancellationToken);
        }

        var after = await read.SearchAsync(new SearchRequest(SearchMode.Dense, 5) { Vector = fresh.Passages[0].Vector }, TestContext.Current.CancellationToken);
        Assert.Equal("fresh", after[0].Passage.DocumentId);
        Assert.DoesNotContain(await read.SearchAsync(new SearchRequest(SearchMode.Dense, 5) { Vector = probe.Vector }, TestContext.Current.CancellationToken), h => h.Passage.Id == probe.Passage.Id);
        Assert.Equal((0, 1), (read.VectorIndexBuilds, read.VectorIndexLoads));

        // SQLite gives the next passage the freed highest rowid: the reader sees one rowid with a new vector.
        var fresher = Update("fresher", ("a fresher passage", Unit(random)));
        using (var writer = EmbeddedPassageStore.Open(path, s_approximate))
        {
            var written = await writer.OpenCollectionAsync("kb", TestContext.Current.CancellationToken);
            await written!.DeleteDocumentsAsync(["fresh"], TestContext.Current.CancellationToken);
            await written.UpsertDocumentsAsync([fresher], TestContext.Current.CancellationToken);
        }

        Assert.Equal("fresher", (await read.SearchAsync(new SearchRequest(SearchMode.Dense, 1) { Vector = fresher.Passages[0].Vector }, TestContext.Current.CancellationToken))[0].Passage.DocumentId);
        Assert.DoesNotContain(await read.SearchAsync(new SearchRequest(SearchMode.Dense, 5) { Vector = fresh.Passages[0].Vector }, TestContext.Current.CancellationToken), h => h.Passage.DocumentId == "fresh");
        Assert.Equal((0, 1), (read.VectorIndexBuilds, read.VectorIndexLoads));

        // The writer never loaded vectors, so it saved nothing: the file on disk is a generation behind and is not used.
        using var late = EmbeddedPassageStore.Open(path, s_approximate);
        var stale = (EmbeddedPassageCollection)(await late.OpenCollectionAsync("kb", TestContext.Current.CancellationToken))!;
        await stale.PrepareSearchAsync(TestContext.Current.CancellationToken);
        Assert.Equal((1, 0), (stale.VectorIndexBuilds, stale.VectorIndexLoads));
        Assert.Equal("fresher", (await stale.SearchAsync(new SearchRequest(SearchMode.Dense, 1) { Vector = fresher.Passages[0].Vector }, TestContext.Current.CancellationToken))[0].Passage.DocumentId);
    }

    [Fact]
    public async Task ABulkWriteLoadsALargeCollectionsSavedGraphFirstAndKeepsItInStep()
    {
        var ct = TestContext.Current.CancellationToken;
        string path = this._directory.Combine("bulk");
        var random = new Random(21);
        using (var store = EmbeddedPassageStore.Open(path, s_approximate))
        {
            var collection = (EmbeddedPassageCollection)await store.OpenOrCreateCollectionAsync("kb", s_wide, ct);
            await collection.UpsertDocumentsAsync(Documents(random, 0, 60, 10), ct);
            await collection.PrepareSearchAsync(ct);
            Assert.Equal(1, collection.VectorIndexBuilds);
        }

        // Another run (process): before its first write, the session loads the saved graph (600 passages, past 500)
        // rather than leaving the first search to rebuild it, as a step it lets the caller show, and the writes edit it in step.
        var steps = new List<string>();
        Task Shown(string description, Func<Task> step)
        {
            steps.Add(description);
            return step();
        }

        using (var store = EmbeddedPassageStore.Open(path, s_approximate))
        {
            var collection = (EmbeddedPassageCollection)(await store.OpenCollectionAsync("kb", ct))!;
            Assert.False(collection.VectorIndexReady);
            await using (var session = await ((IPassageCollection)collection).BeginBulkWriteAsync(Shown, ct))
            {
                Assert.Equal(["loading the vector index of 'kb'"], steps);
                Assert.Null(session.Notice);
                Assert.True(collection.VectorIndexReady);
                await collection.UpsertDocumentsAsync(Documents(random, 60, 5, 10), ct);
                Assert.True(collection.VectorIndexReady);
                await session.EndAsync(ct);
            }

            Assert.Equal((0, 1), (collection.VectorIndexBuilds, collection.VectorIndexLoads));
        }

        // A collection under the threshold needs nothing: no graph is loaded or built.
        using var small = EmbeddedPassageStore.Open(this._directory.Combine("bulk-small"), s_approximate);
        var few = (EmbeddedPassageCollection)await small.OpenOrCreateCollectionAsync("kb", s_wide, ct);
        await few.UpsertDocumentsAsync(Documents(random, 0, 10, 10), ct);
        steps.Clear();
        await using (var session = await few.BeginBulkWriteAsync(Shown, ct))
        {
            Assert.Null(session.Notice);
        }

        Assert.Equal((false, 0, 0, 0), (few.VectorIndexReady, few.VectorIndexBuilds, few.VectorIndexLoads, steps.Count));
    }

    [Fact]
    public async Task FiltersHoldOnTheGraphAndOnTheScanOfANarrowSet()
    {
        using var store = EmbeddedPassageStore.Open(this._directory.Combine("filters"), s_approximate);
        var collection = (EmbeddedPassageCollection)await store.OpenOrCreateCollectionAsync("kb", s_wide, TestContext.Current.CancellationToken);
        var random = new Random(14);

        // Half the documents are red (the graph serves that filter), 1 in 50 blue (scanned).
        var documents = Enumerable.Range(0, 300).Select(d =>
        {
            var tags = new Dictionary<string, string> { ["team"] = d % 2 == 0 ? "red" : "green" };
            if (d % 50 == 0)
            {
                tags["rare"] = "blue";
            }

            return Update($"doc-{d}", DateTimeOffset.UtcNow, tags, [.. Enumerable.Range(0, 10).Select(p => ($"document {d} passage {p}", Unit(random)))]);
        }).ToList();
        await collection.UpsertDocumentsAsync(documents, TestContext.Current.CancellationToken);

        var red = new PassageFilter { Tags = new Dictionary<string, string> { ["team"] = "red" } };
        var blue = new PassageFilter { Tags = new Dictionary<string, string> { ["rare"] = "blue" } };
        Assert.True(await RecallAsync(collection, random, red, 30) >= 0.95);
        for (int q = 0; q < 20; q++)
        {
            var query = Unit(random);
            var redHits = await collection.SearchAsync(new SearchRequest(SearchMode.Dense, 10) { Vector = query, Filter = red }, TestContext.Current.CancellationToken);
            Assert.Equal(10, redHits.Count);
            Assert.All(redHits, h => Assert.Equal("red", h.Passage.Tags["team"]));

            var blueHits = await collection.SearchAsync(new SearchRequest(SearchMode.Hybrid, 10) { Vector = query, Text = "passage", Filter = blue }, TestContext.Current.CancellationToken);
            var blueExact = await collection.SearchExactAsync(new SearchRequest(SearchMode.Hybrid, 10) { Vector = query, Text = "passage", Filter = blue }, TestContext.Current.CancellationToken);
            Assert.Equal(blueExact.Select(h => h.Passage.Id), blueHits.Select(h => h.Passage.Id));
            Assert.All(blueHits, h => Assert.Equal("blue", h.Passage.Tags["rare"]));
        }
    }

    [Fact]
    public async Task ManyConcurrentSearchesShareTheGraphWhileWritesGoOn()
    {
        using var store = EmbeddedPassageStore.Open(this._directory.Combine("concurrent"), s_approximate);
        var collection = await store.OpenOrCreateCollectionAsync("kb", s_wide, TestContext.Current.CancellationToken);
        var random = new Random(15);
        await collection.UpsertDocumentsAsync(Documents(random, 0, 100, 10), TestContext.Current.CancellationToken);
        float[][] queries = [.. Enumerable.Range(0, 64).Select(_ => Unit(random))];
        var extra = Documents(random, 100, 40, 5);

        // More searching threads than cores: the graph's scratch contexts are shared out, never exhausted.
        var searches = Enumerable.Range(0, 16).Select(t => Task.Run(async () =>
        {
            for (int i = 0; i < 40; i++)
            {
                var hits = await collection.SearchAsync(new SearchRequest(SearchMode.Dense, 10) { Vector = queries[(t * 40 + i) % queries.Length] }, TestContext.Current.CancellationToken);
                Assert.Equal(10, hits.Count);
            }
        }, TestContext.Current.CancellationToken)).ToList();
        foreach (var update in extra)
        {
            await collection.UpsertDocumentsAsync([update], TestContext.Current.CancellationToken);
        }

        await Task.WhenAll(searches);
        Assert.Equal(1200, (await collection.GetInfoAsync(TestContext.Current.CancellationToken)).Passages);
    }

    [Fact]
    public async Task SearchesAnswerExactlyWhileTheGraphBuildsAndWritesMadeMeanwhileReachIt()
    {
        // 10,000 × 128 is past the size built inline, so the graph builds on its own thread (one, to leave the other core to the searches).
        const int Dimensions = 128;
        var settings = new CollectionSettings(Dimensions, "hnsw-model");
        using var store = EmbeddedPassageStore.Open(this._directory.Combine("background"), new EmbeddedStoreOptions { ExactSearchThreshold = 500, BuildThreads = 1 });
        var collection = (EmbeddedPassageCollection)await store.OpenOrCreateCollectionAsync("kb", settings, TestContext.Current.CancellationToken);
        var random = new Random(16);
        var original = Documents(random, 0, 1_000, 10, Dimensions);
        await collection.UpsertDocumentsAsync(original, TestContext.Current.CancellationToken);

        // Loads the vectors and starts the build; the graph is not ready when it returns.
        var preparing = collection.PrepareSearchAsync(TestContext.Current.CancellationToken);
        Assert.False(collection.VectorIndexReady);

        // Searches meanwhile scan: the exact answer, without waiting for the graph.
        int answeredWhileBuilding = 0;
        for (int q = 0; q < 20; q++)
        {
            var request = new SearchRequest(SearchMode.Dense, 10) { Vector = Unit(random, Dimensions) };
            var hits = await collection.SearchAsync(request, TestContext.Current.CancellationToken);
            if (!collection.VectorIndexReady)
            {
                answeredWhileBuilding++;
                var exact = await collection.SearchExactAsync(request, TestContext.Current.CancellationToken);
                Assert.Equal(exact.Select(h => h.Passage.Id), hits.Select(h => h.Passage.Id));
            }
        }

        // Writes meanwhile: new documents, replaced ones, deleted ones; none may be lost from the graph when it is swapped in.
        var added = Documents(random, 1_000, 30, 10, Dimensions);
        var replacements = original.Skip(10).Take(10).Select(d => Update(d.Document.DocumentId, [.. Enumerable.Range(0, 3).Select(p => ($"replacement {d.Document.DocumentId} {p}", Unit(random, Dimensions)))])).ToList();
        var deleted = original.Take(10).ToList();
        await collection.UpsertDocumentsAsync([.. added, .. replacements], TestContext.Current.CancellationToken);
        await collection.DeleteDocumentsAsync([.. deleted.Select(d => d.Document.DocumentId)], TestContext.Current.CancellationToken);
        bool wroteWhileBuilding = !collection.VectorIndexReady;

        await preparing;
        Assert.True(answeredWhileBuilding > 0, "no search was answered before the graph was ready");
        Assert.True(wroteWhileBuilding, "the writes finished only after the graph was ready");
        Assert.True(collection.VectorIndexReady);
        Assert.Equal(1, collection.VectorIndexBuilds);

        foreach (var passage in added.Concat(replacements).SelectMany(d => d.Passages).Take(100))
        {
            var hits = await collection.SearchAsync(new SearchRequest(SearchMode.Dense, 10) { Vector = passage.Vector }, TestContext.Current.CancellationToken);
            Assert.Equal(passage.Passage.Id, hits[0].Passage.Id);
            Assert.Equal(1.0, hits[0].Score, 4);
        }

        var goneIds = deleted.Concat(original.Skip(10).Take(10)).SelectMany(d => d.Passages).Select(p => p.Passage.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var passage in deleted.SelectMany(d => d.Passages).Take(30))
        {
            var hits = await collection.SearchAsync(new SearchRequest(SearchMode.Dense, 10) { Vector = passage.Vector }, TestContext.Current.CancellationToken);
            Assert.DoesNotContain(hits, h => goneIds.Contains(h.Passage.Id));
        }

        Assert.Equal(1, collection.VectorIndexBuilds);
    }

    [Fact]
    public async Task AFloat32GraphOfAnOlderVersionIsRebuiltNotRead()
    {
        string path = this._directory.Combine("old-format");
        var random = new Random(17);
        var documents = Documents(random, 0, 150, 10);
        using (var store = EmbeddedPassageStore.Open(path, s_approximate))
        {
            var collection = await store.OpenOrCreateCollectionAsync("kb", s_wide, TestContext.Current.CancellationToken);
            await collection.UpsertDocumentsAsync(documents, TestContext.Current.CancellationToken);
        }

        // What an older t5rag left: a float32 graph of exactly these rows, at this generation, with a stamp of three fields.
        string graphPath = Path.Combine(path, "kb", "vectors.usearch");
        var (generation, file) = WriteFloat32Graph(Path.Combine(path, "kb", "collection.db"), graphPath);
        File.WriteAllText(graphPath + ".generation", string.Create(CultureInfo.InvariantCulture, $"{generation} {file.Length} {file.LastWriteTimeUtc.Ticks}"));
        await AssertRebuiltAsync();

        // A stamp of the current format over a float32 file (hand-made, or a crash between the two renames): the file's own header decides.
        (generation, file) = WriteFloat32Graph(Path.Combine(path, "kb", "collection.db"), graphPath);
        string owner;
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(path, "kb", "collection.db")};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT value FROM meta WHERE key = 'created_at'";
            owner = "kb@" + (string)command.ExecuteScalar()!;
        }

        File.WriteAllText(graphPath + ".generation", string.Create(CultureInfo.InvariantCulture, $"{generation} i8 100 {file.Length} {file.LastWriteTimeUtc.Ticks} {owner}"));
        await AssertRebuiltAsync();

        async Task AssertRebuiltAsync()
        {
            using var store = EmbeddedPassageStore.Open(path, s_approximate);
            var collection = (EmbeddedPassageCollection)(await store.OpenCollectionAsync("kb", TestContext.Current.CancellationToken))!;
            var probe = documents[42].Passages[7];
            var hits = await collection.SearchAsync(new SearchRequest(SearchMode.Dense, 5) { Vector = probe.Vector }, TestContext.Current.CancellationToken);
            Assert.Equal(probe.Passage.Id, hits[0].Passage.Id);
            Assert.Equal((1, 0), (collection.VectorIndexBuilds, collection.VectorIndexLoads));
            Assert.True(collection.VectorIndexReady);
        }
    }

    /// <summary>Saves a float32 USearch graph of every row of the collection's database at <paramref name="graphPath"/>, as t5rag did before graphs held bytes.</summary>
    private static (long Generation, FileInfo File) WriteFloat32Graph(string database, string graphPath)
    {
        using var connection = new SqliteConnection($"Data Source={database}");
        using var graph = new USearchIndex(MetricKind.Ip, ScalarKind.Float32, Wide, 16, 128, 192, false);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT rowid, vector FROM passages";
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                graph.Add((ulong)reader.GetInt64(0), MemoryMarshal.Cast<byte, float>((byte[])reader.GetValue(1)).ToArray());
            }
        }

        command.CommandText = "SELECT value FROM meta WHERE key = 'generation'";
        long generation = long.Parse((string)command.ExecuteScalar()!, CultureInfo.InvariantCulture);
        graph.Save(graphPath);
        return (generation, new FileInfo(graphPath));
    }

    /// <summary>Mean share of the exact top 10 that the default (graph) search also returns.</summary>
    private static async Task<double> RecallAsync(EmbeddedPassageCollection collection, Random random, PassageFilter filter, int queries)
    {
        double found = 0;
        for (int q = 0; q < queries; q++)
        {
            var request = new SearchRequest(SearchMode.Dense, 10) { Vector = Unit(random), Filter = filter };
            var approximate = await collection.SearchAsync(request, TestContext.Current.CancellationToken);
            var exact = await collection.SearchExactAsync(request, TestContext.Current.CancellationToken);
            var truth = exact.Select(h => h.Passage.Id).ToHashSet(StringComparer.Ordinal);
            found += approximate.Count(h => truth.Contains(h.Passage.Id)) / (double)exact.Count;
        }

        return found / queries;
    }

    private static List<DocumentUpdate> Documents(Random random, int first, int count, int passages, int dimensions = Wide) =>
        [.. Enumerable.Range(first, count).Select(d => Update($"doc-{d}", [.. Enumerable.Range(0, passages).Select(p => ($"document {d} passage {p}", Unit(random, dimensions)))]))];

    private static float[] Unit(Random random, int dimensions = Wide)
    {
        float[] vector = [.. Enumerable.Range(0, dimensions).Select(_ => (float)(random.NextDouble() - 0.5))];
        float norm = MathF.Sqrt(vector.Sum(x => x * x));
        return [.. vector.Select(x => x / norm)];
    }
}
