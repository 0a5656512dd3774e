using System.Diagnostics;
using System.Globalization;
using T5Gemma2.Rag.Cli.Console;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Indexer.Stores.Embedded;

namespace T5Gemma2.Rag.Cli.Bench;

/// <summary>
/// The embedded store's search at scale, on synthetic collections of the sizes asked: build times apart (SQLite
/// writes, loading the vectors, building the HNSW graph), dense / keyword / hybrid latency end to end, the graph's
/// recall@10 against the exact scan on the same queries, and the process's peak memory. No model is needed: vectors
/// are unit vectors around 1,000 random centres (Gaussian noise), texts are words of a Zipf-distributed vocabulary.
/// </summary>
internal static class SearchBenchmark
{
    private const int PassagesPerWrite = 2_000;
    private const int Top = 10;
    private const int WarmUp = 5;

    /// <summary>The ef values measured besides the default, each through its own store instance on the saved graph.</summary>
    private static readonly int[] s_expansions = [64, 128, 192, 256];

    /// <param name="dimensions">One vector length, or several ("768,256"): the first is drawn, the others are its Matryoshka cuts (leading components, renormalised), measured in the same run.</param>
    public static async Task<int> RunAsync(CliConsole console, string passages, string dimensions, int queries, string? storePath, int seed, CancellationToken cancellationToken)
    {
        if (!TryParseSizes(passages, out int[] sizes) || !TryParseSizes(dimensions, out int[] lengths) || queries < 1 || lengths.Skip(1).Any(d => d > lengths[0]))
        {
            await console.Error.WriteLineAsync($"t5rag bench search: --passages \"{passages}\", --dimensions \"{dimensions}\", --queries {queries}; expected sizes such as 10000,1000000 (or 10k,1m), lengths such as 768 or 768,256 (the first the widest), and positive counts.");
            return ExitCodes.UsageError;
        }

        var culture = CultureInfo.InvariantCulture;
        var defaults = EmbeddedStoreOptions.Default;
        await BenchEnvironment.WriteAsync(console, $"{defaults.BuildThreads} (HNSW build, EmbeddedStoreOptions.BuildThreads: every core); each search on one");
        string root = storePath ?? Path.Combine(Path.GetTempPath(), "t5rag-bench-search-" + Guid.NewGuid().ToString("N")[..12]);
        var builds = new List<string[]>();
        var searches = new List<string[]>();
        var footprint = new Dictionary<(int Size, int Dimensions), (long StoreBytes, double ExactP50, double GraphP50)>();
        try
        {
            foreach (var (size, length) in sizes.SelectMany(size => lengths.Select(length => (size, length))))
            {
                var corpus = new SyntheticCorpus(lengths[0], seed, length == lengths[0] ? null : length);
                string name = string.Create(culture, $"bench-{size}-d{lengths[0]}{(length == lengths[0] ? "" : $"-cut{length}")}-s{seed}");
                double? writeSeconds = await WriteAsync(console, root, name, corpus, size, cancellationToken);
                var random = new Random(seed ^ 0x5EED);
                var queryList = Enumerable.Range(0, WarmUp + queries).Select(_ => corpus.Query(random, size)).ToList();
                var truth = new List<HashSet<string>>();
                var measured = new List<(int Group, int Expansion, string Path, List<double> Latencies, double? Recall)>();

                // The default ef first (it builds the graph, and runs the exact scan, keyword and hybrid); then one store
                // instance per other ef on the saved graph, the same queries at top 10.
                int[] expansions = [defaults.HnswExpansionSearch, .. s_expansions.Where(e => e != defaults.HnswExpansionSearch)];
                foreach (int expansion in expansions)
                {
                    var (build, results) = await MeasureInstanceAsync(console, root, name, size, writeSeconds, expansion, expansion == defaults.HnswExpansionSearch, queryList, truth, cancellationToken);
                    if (build is not null)
                    {
                        builds.Add(build);
                    }

                    measured.AddRange(results);
                    GC.Collect(); // the instance's vectors, so that peak memory is one instance's
                }

                foreach (var (_, _, path, latencies, recall) in measured.OrderBy(m => m.Group).ThenBy(m => m.Expansion))
                {
                    searches.Add([size.ToString("N0", culture), length.ToString(culture), path, Percentile.Of(latencies, 0.50).ToString("F2", culture), Percentile.Of(latencies, 0.99).ToString("F2", culture), recall is { } value ? value.ToString("F4", culture) : string.Empty]);
                }

                long storeBytes = Directory.EnumerateFiles(Path.Combine(root, name), "*", SearchOption.AllDirectories).Sum(file => new FileInfo(file).Length);
                double P50(Func<string, bool> which) => Percentile.Of(measured.First(m => which(m.Path)).Latencies, 0.50);
                footprint[(size, length)] = (storeBytes, P50(p => p == "dense, exact scan"), P50(p => p.EndsWith("(default)", StringComparison.Ordinal)));
            }
        }
        finally
        {
            if (storePath is null)
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                Directory.Delete(root, recursive: true);
            }
        }

        await console.Out.WriteLineAsync(string.Create(culture, $"synthetic passages: {lengths[0]}-dimension unit vectors{(lengths.Length > 1 ? $" (and their Matryoshka cuts to {string.Join(", ", lengths.Skip(1))}: leading components, renormalised)" : "")} around {SyntheticCorpus.Centers:N0} centres (noise σ {SyntheticCorpus.Noise} per component), {SyntheticCorpus.MinWords}–{SyntheticCorpus.MaxWords} words of a Zipf vocabulary of {SyntheticCorpus.Vocabulary:N0}; queries: a vector near a random passage's centre, 3 vocabulary words drawn uniformly; HNSW M {defaults.HnswConnectivity}, ef(add) {defaults.HnswExpansionAdd}, int8 vectors re-ranked on float32, built on {defaults.BuildThreads} threads; {Environment.ProcessorCount} cores"));
        console.WriteTable("search benchmark: building (seconds; writes through UpsertDocumentsAsync, 2,000 passages a call)", ["passages", "SQLite writes s", "writes passages/s", "vector load s", "HNSW build s", "HNSW adds/s", "build threads", "cpu ÷ wall (load + build)", "graph save s", "graph MiB"], builds);
        console.WriteTable($"search benchmark: latency end to end (ms, top {Top}, passages read back), recall@{Top} of the graph against the exact scan at the same length", ["passages", "dimensions", "path", "p50 ms", "p99 ms", $"recall@{Top}"], searches);
        if (lengths.Length > 1)
        {
            // Each cut beside the full length, measured in this run on the prefixes of the same vectors.
            var rows = footprint.Where(f => f.Key.Dimensions != lengths[0]).Select(f =>
            {
                var full = footprint[(f.Key.Size, lengths[0])];
                long vectorBytes = 4L * f.Key.Size * f.Key.Dimensions, fullVectorBytes = 4L * f.Key.Size * lengths[0];
                return (string[])[
                    f.Key.Size.ToString("N0", culture), $"{f.Key.Dimensions} / {lengths[0]}",
                    string.Create(culture, $"{vectorBytes / 1048576.0:N0} / {fullVectorBytes / 1048576.0:N0} MiB ({(double)vectorBytes / fullVectorBytes:F2})"),
                    string.Create(culture, $"{f.Value.StoreBytes / 1048576.0:N0} / {full.StoreBytes / 1048576.0:N0} MiB ({(double)f.Value.StoreBytes / full.StoreBytes:F2})"),
                    string.Create(culture, $"{f.Value.ExactP50:F2} / {full.ExactP50:F2} ({f.Value.ExactP50 / full.ExactP50:F2})"),
                    string.Create(culture, $"{f.Value.GraphP50:F2} / {full.GraphP50:F2} ({f.Value.GraphP50 / full.GraphP50:F2})"),
                ];
            }).ToList();
            console.WriteTable("Matryoshka cuts beside the full length (cut / full, ratio)", ["passages", "dimensions", "fp32 vectors in memory", "store on disk (SQLite + graph)", "exact scan p50 ms", "HNSW p50 ms (default ef)"], rows);
        }

        await console.Out.WriteLineAsync(string.Create(culture, $"peak RSS of the process (VmHWM): {PeakMemory.ResidentBytes() / 1048576.0:N0} MiB"));
        return ExitCodes.Success;
    }

    /// <summary>
    /// One store instance with ef <paramref name="expansion"/> (every dense search through the graph, threshold 1): the
    /// default one builds or loads the graph and runs the exact scan, keyword and hybrid too; others run the graph only.
    /// </summary>
    private static async Task<(string[]? Build, List<(int Group, int Expansion, string Path, List<double> Latencies, double? Recall)> Results)> MeasureInstanceAsync(
        CliConsole console, string root, string name, int size, double? writeSeconds, int expansion, bool first, List<(float[] Vector, string Text)> queries, List<HashSet<string>> truth, CancellationToken cancellationToken)
    {
        var defaults = EmbeddedStoreOptions.Default;
        var options = new EmbeddedStoreOptions { ExactSearchThreshold = 1, HnswConnectivity = defaults.HnswConnectivity, HnswExpansionAdd = defaults.HnswExpansionAdd, HnswExpansionSearch = expansion };
        using var store = EmbeddedPassageStore.Open(root, options);
        var collection = (EmbeddedPassageCollection)(await store.OpenCollectionAsync(name, cancellationToken))!;
        var prepare = Stopwatch.StartNew();
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        await console.RunWithStatusAsync($"{size:N0} passages, ef {expansion}: loading vectors, loading or building the HNSW graph", async () =>
        {
            await collection.PrepareSearchAsync(cancellationToken);
            return true;
        });
        double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
        string[]? build = first ? BuildRow(root, name, size, writeSeconds, prepare.Elapsed.TotalSeconds, cpuSeconds, options.BuildThreads, collection) : null;

        string graph = $"dense, HNSW ef {expansion}" + (first ? " (default)" : string.Empty);
        (string Name, SearchMode Mode, bool Exact)[] paths = first
            ? [("dense, exact scan", SearchMode.Dense, true), (graph, SearchMode.Dense, false), ("keyword (BM25)", SearchMode.Keyword, false), ("hybrid (HNSW + BM25, RRF)", SearchMode.Hybrid, false)]
            : [(graph, SearchMode.Dense, false)];
        var results = await console.RunWithStatusAsync($"{size:N0} passages, ef {expansion}: {queries.Count - WarmUp} queries per path", () => MeasureAsync(collection, queries, paths, truth, cancellationToken));

        // Rows in the order: exact scan, the graph by ef, keyword, hybrid.
        return (build, [.. paths.Zip(results, (p, r) => (p.Exact ? 0 : (int)p.Mode + 1, expansion, r.Path, r.Latencies, r.Recall))]);
    }

    private static string[] BuildRow(string root, string name, int size, double? writeSeconds, double prepareSeconds, double prepareCpuSeconds, int threads, EmbeddedPassageCollection collection)
    {
        var culture = CultureInfo.InvariantCulture;
        bool built = collection.VectorIndexBuilds > 0;
        double build = built ? collection.LastVectorIndexBuildTime.TotalSeconds : 0;
        double save = collection.LastVectorIndexSaveTime.TotalSeconds;
        long graphBytes = new FileInfo(Path.Combine(root, name, "vectors.usearch")).Length;
        return [
            size.ToString("N0", culture),
            writeSeconds is { } w ? w.ToString("F1", culture) : "reused",
            writeSeconds is { } r ? (size / r).ToString("N0", culture) : "-",
            (prepareSeconds - build - save).ToString("F1", culture) + (collection.VectorIndexLoads > 0 ? " (graph loaded from file)" : string.Empty),
            built ? build.ToString("F1", culture) : "-",
            built ? (size / build).ToString("N0", culture) : "-",
            threads.ToString(culture),
            (prepareCpuSeconds / prepareSeconds).ToString("F2", culture),
            built ? save.ToString("F1", culture) : "-",
            (graphBytes / 1048576.0).ToString("N0", culture),
        ];
    }

    /// <summary>Writes the collection unless the store already holds it at this size; null when reused, else the seconds spent in the store's writes.</summary>
    private static async Task<double?> WriteAsync(CliConsole console, string root, string name, SyntheticCorpus corpus, int size, CancellationToken cancellationToken)
    {
        // No graph while writing (the threshold is never reached): the writes are timed alone, the graph apart after.
        using var store = EmbeddedPassageStore.Open(root, new EmbeddedStoreOptions { ExactSearchThreshold = int.MaxValue });
        var settings = new CollectionSettings(corpus.Dimensions, "synthetic");
        var collection = await store.OpenOrCreateCollectionAsync(name, settings, cancellationToken);
        long existing = (await collection.GetInfoAsync(cancellationToken)).Passages;
        if (existing == size)
        {
            return null;
        }

        if (existing > 0)
        {
            await store.DeleteCollectionAsync(name, cancellationToken);
            collection = await store.OpenOrCreateCollectionAsync(name, settings, cancellationToken);
        }

        return await console.RunWithProgressAsync($"{size:N0} passages: writing", async progress =>
        {
            var writing = new Stopwatch();
            for (int first = 0; first < size; first += PassagesPerWrite)
            {
                var updates = corpus.Documents(first, Math.Min(PassagesPerWrite, size - first));
                writing.Start();
                await collection.UpsertDocumentsAsync(updates, cancellationToken);
                writing.Stop();
                int done = Math.Min(size, first + PassagesPerWrite);
                progress.Report((done, size, string.Create(CultureInfo.InvariantCulture, $"{done / writing.Elapsed.TotalSeconds:N0} passages/s")));
            }

            return writing.Elapsed.TotalSeconds;
        });
    }

    /// <summary>
    /// Latencies per path over the same queries (the first <see cref="WarmUp"/> untimed), and the graph's recall@10
    /// against <paramref name="truth"/>: the exact scan's top 10 per query, filled by the exact path when it runs.
    /// </summary>
    private static async Task<List<(string Path, List<double> Latencies, double? Recall)>> MeasureAsync(
        EmbeddedPassageCollection collection, List<(float[] Vector, string Text)> queries, (string Name, SearchMode Mode, bool Exact)[] paths, List<HashSet<string>> truth, CancellationToken cancellationToken)
    {
        var latencies = paths.ToDictionary(p => p.Name, _ => new List<double>());
        var found = paths.ToDictionary(p => p.Name, _ => 0.0);
        for (int q = 0; q < queries.Count; q++)
        {
            foreach (var path in paths)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var request = new SearchRequest(path.Mode, Top) { Vector = queries[q].Vector, Text = queries[q].Text };
                long started = Stopwatch.GetTimestamp();
                var hits = path.Exact
                    ? await collection.SearchExactAsync(request, cancellationToken)
                    : await collection.SearchAsync(request, cancellationToken);
                double milliseconds = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (q < WarmUp)
                {
                    continue;
                }

                latencies[path.Name].Add(milliseconds);
                if (path.Exact)
                {
                    truth.Add(hits.Select(h => h.Passage.Id).ToHashSet(StringComparer.Ordinal));
                }
                else if (path.Mode == SearchMode.Dense && truth[q - WarmUp] is { Count: > 0 } expected)
                {
                    found[path.Name] += hits.Count(h => expected.Contains(h.Passage.Id)) / (double)expected.Count;
                }
            }
        }

        int timed = queries.Count - WarmUp;
        return [.. paths.Select(p => (p.Name, latencies[p.Name], p.Mode == SearchMode.Dense && !p.Exact ? found[p.Name] / timed : (double?)null))];
    }


    /// <summary>"10000,1000000" or "10k,1m" into sizes.</summary>
    private static bool TryParseSizes(string text, out int[] sizes)
    {
        var parsed = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string lower = part.ToLowerInvariant();
            int multiplier = lower.EndsWith('k') ? 1_000 : lower.EndsWith('m') ? 1_000_000 : 1;
            string digits = multiplier == 1 ? lower : lower[..^1];
            if (!double.TryParse(digits, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) || value * multiplier is < 1 or > int.MaxValue)
            {
                sizes = [];
                return false;
            }

            parsed.Add((int)(value * multiplier));
        }

        sizes = [.. parsed];
        return sizes.Length > 0;
    }
}
