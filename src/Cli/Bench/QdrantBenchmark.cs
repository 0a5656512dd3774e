using System.Diagnostics;
using System.Globalization;
using T5Gemma2.Rag.Cli.Console;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Indexer.Stores.Qdrant;

namespace T5Gemma2.Rag.Cli.Bench;

/// <summary>
/// The Qdrant store against a live server, on synthetic passages (no model needed): upsert throughput through
/// <see cref="IPassageCollection.UpsertDocumentsAsync"/> with HNSW deferred, the server's index build after, and query
/// latency p50/p99 end to end (passages read back) for dense, keyword and hybrid search. Without a reachable server it
/// says so in one line and exits <see cref="ExitCodes.Unavailable"/>.
/// </summary>
internal static class QdrantBenchmark
{
    private const int PassagesPerCall = 2_000;
    private const int PassagesPerDocument = 10;
    private const int Top = 10;
    private const int WarmUp = 5;

    public static async Task<int> RunAsync(CliConsole console, string? url, int points, int dimensions, int queries, int seed, bool keep, CancellationToken cancellationToken)
    {
        if (points < 1 || dimensions < 1 || queries < 1)
        {
            await console.Error.WriteLineAsync($"t5rag bench qdrant: --points {points}, --dimensions {dimensions}, --queries {queries}; expected positive counts.");
            return ExitCodes.UsageError;
        }

        await BenchEnvironment.WriteAsync(console, "the client's (the work runs on the Qdrant server)");
        var settings = Configuration.T5RagSettings.Load(console.LoggerFactory);
        QdrantStoreLocation location;
        try
        {
            location = QdrantStoreLocation.Parse(url ?? settings.QdrantUrl ?? QdrantStoreLocation.Keyword);
        }
        catch (FormatException ex)
        {
            await console.Error.WriteLineAsync($"t5rag bench qdrant: {ex.Message}");
            return ExitCodes.UsageError;
        }

        // Few retries: an absent server should be reported at once, not after a minute of backoff.
        var options = location.ToOptions() with { ApiKey = settings.QdrantApiKey ?? location.ApiKey, CollectionPrefix = "t5rag_bench_", MaxRetryAttempts = 1, ConnectTimeout = TimeSpan.FromSeconds(3) };
        using var store = QdrantPassageStore.Connect(options, console.LoggerFactory);
        string version;
        try
        {
            version = await store.CheckHealthAsync(cancellationToken);
        }
        catch (StoreException ex)
        {
            await console.Error.WriteLineAsync($"t5rag bench qdrant: {ex.Message}");
            return ExitCodes.For(ex.Kind);
        }

        var culture = CultureInfo.InvariantCulture;
        var corpus = new SyntheticCorpus(dimensions, seed);
        string name = string.Create(culture, $"bench-{points}-d{dimensions}-{Guid.NewGuid().ToString("N")[..12]}");
        var collection = (QdrantPassageCollection)await store.OpenOrCreateCollectionAsync(name, new CollectionSettings(dimensions, "synthetic"), cancellationToken);
        try
        {
            double upsertSeconds, indexSeconds;
            await using (var bulkLoad = await collection.BeginBulkLoadAsync(cancellationToken))
            {
                upsertSeconds = await console.RunWithProgressAsync($"{points:N0} passages: upserting", async progress =>
                {
                    var timer = new Stopwatch();
                    for (int first = 0; first < points; first += PassagesPerCall)
                    {
                        var updates = corpus.Documents(first, Math.Min(PassagesPerCall, points - first));
                        timer.Start();
                        await collection.UpsertDocumentsAsync(updates, cancellationToken);
                        timer.Stop();
                        int done = Math.Min(points, first + PassagesPerCall);
                        progress.Report((done, points, string.Create(culture, $"{done / timer.Elapsed.TotalSeconds:N0} points/s")));
                    }

                    return timer.Elapsed.TotalSeconds;
                });
                await bulkLoad.EndAsync(cancellationToken);
            }

            indexSeconds = await console.RunWithStatusAsync("waiting for the server to build the HNSW index", async () =>
            {
                var timer = Stopwatch.StartNew();
                while (!await collection.IsIndexedAsync(cancellationToken))
                {
                    await Task.Delay(250, cancellationToken);
                }

                return timer.Elapsed.TotalSeconds;
            });

            var latencies = await console.RunWithStatusAsync($"{queries} queries per mode", () => MeasureAsync(collection, corpus, points, queries, cancellationToken));
            await console.Out.WriteLineAsync(string.Create(culture,
                $"Qdrant {version} at {store.Location}; {points:N0} synthetic passages of {dimensions} dimensions around {SyntheticCorpus.Centers:N0} centres, 12–60 words of a Zipf vocabulary of {SyntheticCorpus.Vocabulary:N0}; batches of ≤{options.BatchMaxPoints} points, {options.UploadParallelism} streams; HNSW m {options.HnswM}, ef_construct {options.HnswEfConstruct}"));
            console.WriteTable("qdrant benchmark: writing", ["passages", "upsert s", "points/s", "HNSW build after load s"],
            [
                [points.ToString("N0", culture), upsertSeconds.ToString("F1", culture), (points / upsertSeconds).ToString("N0", culture), indexSeconds.ToString("F1", culture)],
            ]);
            console.WriteTable($"qdrant benchmark: latency end to end (ms, top {Top}, passages read back)", ["mode", "p50 ms", "p99 ms", "queries"],
                latencies.Select(l => (string[])[l.Mode, Percentile.Of(l.Milliseconds, 0.50).ToString("F2", culture), Percentile.Of(l.Milliseconds, 0.99).ToString("F2", culture), l.Milliseconds.Count.ToString(culture)]));
        }
        finally
        {
            if (keep)
            {
                await console.Out.WriteLineAsync($"kept the collection: t5rag collections info {collection.PhysicalName} --store {QdrantStoreLocation.Format(store.Endpoint)}");
            }
            else
            {
                await store.DeleteCollectionAsync(name, CancellationToken.None);
            }
        }

        return ExitCodes.Success;
    }

    private static async Task<List<(string Mode, List<double> Milliseconds)>> MeasureAsync(IPassageCollection collection, SyntheticCorpus corpus, int points, int queries, CancellationToken cancellationToken)
    {
        var random = new Random(corpus.Seed ^ 0x5EED);
        var queryList = Enumerable.Range(0, queries + WarmUp).Select(_ => corpus.Query(random, points)).ToList();
        (string Name, SearchMode Mode, FusionMethod Fusion)[] modes =
        [
            ("dense (HNSW)", SearchMode.Dense, FusionMethod.ReciprocalRank),
            ("keyword (BM25 sparse vector)", SearchMode.Keyword, FusionMethod.ReciprocalRank),
            ("hybrid (prefetch + server RRF, with ranks)", SearchMode.Hybrid, FusionMethod.ReciprocalRank),
            ("hybrid (convex, fused in t5rag)", SearchMode.Hybrid, FusionMethod.Convex),
        ];
        var results = modes.Select(m => (m.Name, new List<double>())).ToList();
        for (int q = 0; q < queryList.Count; q++)
        {
            for (int m = 0; m < modes.Length; m++)
            {
                var request = new SearchRequest(modes[m].Mode, Top) { Vector = queryList[q].Vector, Text = queryList[q].Text, Fusion = modes[m].Fusion };
                long started = Stopwatch.GetTimestamp();
                await collection.SearchAsync(request, cancellationToken);
                if (q >= WarmUp)
                {
                    results[m].Item2.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
            }
        }

        return results;
    }

}
