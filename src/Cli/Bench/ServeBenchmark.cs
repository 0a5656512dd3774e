using System.Diagnostics;
using System.Globalization;
using System.Net;
using T5Gemma2.Rag.Cli.Console;
using T5Gemma2.Rag.Indexer.Pipeline;

namespace T5Gemma2.Rag.Cli.Bench;

/// <summary>
/// The knowledge-base service under load, over HTTP on loopback, for a bounded time: a collection of synthetic
/// passages, then concurrent searchers while one writer uploads documents, then concurrent askers when the server has
/// a generator. Per phase: requests, requests/s, p50/p99 latency, errors as 4xx, 5xx and below HTTP (the target is no
/// 5xx), the server's peak resident memory; after the search phase, how many uploaded documents a keyword search
/// finds. The server is a running one (<c>--url</c>) or one started in this process (<c>--start</c>).
/// </summary>
internal static class ServeBenchmark
{
    /// <summary>Latencies kept per second of a phase, all clients together (the array is allocated before the phase); requests past it are counted, not timed.</summary>
    private const int TimedRequestsPerSecond = 10_000;

    /// <summary>How long a phase's requests still in flight at its end may take before they are cut.</summary>
    private static readonly TimeSpan s_grace = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan s_readyTimeout = TimeSpan.FromSeconds(120);

    public static async Task<int> RunAsync(CliConsole console, ServeBenchmarkSettings settings, CancellationToken cancellationToken)
    {
        if (Refusal(settings) is { } refusal)
        {
            await console.Error.WriteLineAsync($"t5rag bench serve: {refusal}");
            return ExitCodes.UsageError;
        }

        var startOptions = settings.Start?.Invoke();
        if (!settings.Json)
        {
            await BenchEnvironment.WriteAsync(console, startOptions is { } options
                ? $"{BenchEnvironment.IntraOp(options.Session.IntraOpThreads)}; server and clients in this process"
                : "the server's own; the clients in this process");
        }

        string[] texts = Passages(settings.Passages, settings.Seed);
        InProcessServer? server = null;
        try
        {
            if (startOptions is { } start)
            {
                server = await console.RunWithStatusAsync("starting the server (loading the models, opening the store)", () => InProcessServer.StartAsync(console, start, cancellationToken));
            }

            Uri address = server?.Address ?? new Uri(settings.Url!);
            using var client = new ServeClient(address, settings.Key, Math.Max(settings.Searchers, settings.Askers) + 2);
            if (await WaitUntilReadyAsync(client, cancellationToken) is { } unready)
            {
                await console.Error.WriteLineAsync($"t5rag bench serve: {address} is not ready: {unready}");
                return ExitCodes.Unavailable;
            }

            var prepared = server is not null
                ? await PrepareInProcessAsync(console, server, settings, texts, cancellationToken)
                : await PrepareRemoteAsync(console, client, settings, texts, cancellationToken);
            if (prepared.Problem is { } problem)
            {
                await console.Error.WriteLineAsync($"t5rag bench serve: {problem}");
                return ExitCodes.Unavailable;
            }

            // The server's process: this one (null) when started here, else --server-pid's, else unknown.
            int? pid = server is not null ? null : settings.ServerProcessId;
            bool known = server is not null || pid is not null;
            bool reset = known && PeakMemory.TryReset(pid);

            // Phase 1: searchers, and beside them the writer.
            var writer = new UploadWriter(client, settings.Collection, texts, settings.Seed, settings.JobTimeout);
            var random = new Random(settings.Seed ^ 0x5EA4C4);
            var search = await RunPhaseAsync(console, "search", settings.Searchers, settings.Seconds, known ? pid : -1, writer.RunAsync, settings.JobTimeout, (r, ct) => client.SearchAsync(settings.Collection, Query(texts, r, 3), settings.Mode, 8, ct), random, cancellationToken);
            var (found, missing) = writer.Unavailable is null
                ? await console.RunWithStatusAsync($"searching each of {writer.Accepted.Count:N0} uploaded documents by its marker word", () => writer.VerifyAsync(cancellationToken))
                : (0, []);

            // Phase 2: askers, when the server answers.
            LoadPhaseResult? ask = null;
            string? askSkipped = settings.Askers == 0 || settings.AskSeconds == 0 ? "--askers or --ask-seconds is 0"
                : startOptions is { GeneratorModelDirectory: null } ? "the server has no generator (--generator)"
                : null;
            if (askSkipped is null)
            {
                askSkipped = await ProbeAskAsync(client, settings, texts, random, cancellationToken);
            }

            if (askSkipped is null)
            {
                if (reset)
                {
                    PeakMemory.TryReset(pid);
                }

                ask = await RunPhaseAsync(console, "ask", settings.Askers, settings.AskSeconds, known ? pid : -1, null, TimeSpan.Zero, (r, ct) => client.AskAsync(settings.Collection, Query(texts, r, 8), 4, settings.AskTokens, ct), random, cancellationToken);
            }

            var report = new ServeReport(address, server is not null, settings, prepared, search, ask, askSkipped, writer, found, missing, known ? reset : null);
            await report.WriteAsync(console, settings.Json);
            return report.MetTargets ? ExitCodes.Success : ExitCodes.PartialFailure;
        }
        catch (HttpRequestException ex)
        {
            await console.Error.WriteLineAsync($"t5rag bench serve: cannot reach {server?.Address?.ToString() ?? settings.Url}: {ex.Message}");
            return ExitCodes.Unavailable;
        }
        finally
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }
    }

    /// <summary>What is wrong with the command line, or null.</summary>
    private static string? Refusal(ServeBenchmarkSettings s)
    {
        if (s.Start is null == (s.Url is null))
        {
            return "give --url of a running server, or --start to start one in this process (not both).";
        }

        if (s.Url is { } url && (!Uri.TryCreate(url, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https")))
        {
            return $"--url {url}: expected http://host:port.";
        }

        if (s.Start is not null && s.ServerProcessId is not null)
        {
            return "--server-pid is for a server run elsewhere; with --start the server's memory is this process's.";
        }

        if (s.Passages < 1 || s.Searchers < 1 || s.Seconds < 1 || s.Askers < 0 || s.AskSeconds < 0 || s.AskTokens < 1)
        {
            return string.Create(CultureInfo.InvariantCulture, $"--passages {s.Passages}, --searchers {s.Searchers}, --seconds {s.Seconds}, --askers {s.Askers}, --ask-seconds {s.AskSeconds}, --ask-tokens {s.AskTokens}: expected at least 1 passage, searcher, second and token (askers and ask seconds may be 0: no ask phase).");
        }

        return s.Mode is "dense" or "keyword" or "hybrid" ? null : $"--mode {s.Mode}: expected dense, keyword or hybrid.";
    }

    /// <summary>The collection's passages: the synthetic corpus's texts (Zipf words of a 50,000-word vocabulary), passage i from (seed, i) alone.</summary>
    private static string[] Passages(int count, int seed) =>
        [.. new SyntheticCorpus(dimensions: 2, seed).Documents(0, count).SelectMany(d => d.Passages).Select(p => p.Passage.Text)];

    /// <summary><paramref name="words"/> consecutive words of a random passage: a query some passage answers.</summary>
    private static string Query(string[] texts, Random random, int words)
    {
        string[] all = texts[random.Next(texts.Length)].Split(' ');
        int first = random.Next(Math.Max(1, all.Length - words + 1));
        return string.Join(' ', all.Skip(first).Take(words));
    }

    /// <summary>Null once <c>/readyz</c> answers 200 (models loaded, store open), else what it last said.</summary>
    private static async Task<string?> WaitUntilReadyAsync(ServeClient client, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        string last;
        do
        {
            try
            {
                using var response = await client.GetAsync("/readyz", cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return null;
                }

                last = $"{(int)response.StatusCode} {await ServeClient.ReadPropertyAsync(response, "detail", cancellationToken)}".TrimEnd();
            }
            catch (HttpRequestException ex)
            {
                last = ex.Message;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        }
        while (Stopwatch.GetElapsedTime(started) < s_readyTimeout);
        return last;
    }

    /// <summary>Indexes the passages straight through the collection's pipeline (as the server's jobs do), unless the collection already has as many.</summary>
    private static async Task<Prepared> PrepareInProcessAsync(CliConsole console, InProcessServer server, ServeBenchmarkSettings settings, string[] texts, CancellationToken cancellationToken)
    {
        var services = await server.Collections.OpenOrCreateAsync(settings.Collection, cancellationToken);
        long existing = (await services.Collection.GetInfoAsync(cancellationToken)).Passages;
        if (existing >= texts.Length)
        {
            return new Prepared(existing, 0, null, null);
        }

        var clock = Stopwatch.StartNew();
        var summary = await console.RunWithProgressAsync($"indexing {texts.Length:N0} passages into {settings.Collection} (unchanged ones are skipped)", progress =>
            services.WriteAsync(ct => services.Pipeline.IndexDocumentsAsync(
                BenchCorpus.AsDocuments(texts, ct),
                new Progress<IngestProgress>(p => progress.Report((p.DocumentsWritten, texts.Length, string.Create(CultureInfo.InvariantCulture, $"{p.PassagesEmbedded / Math.Max(p.Elapsed.TotalSeconds, 1e-9):N0} passages/s")))),
                ct), cancellationToken));
        long now = (await services.Collection.GetInfoAsync(cancellationToken)).Passages;
        return new Prepared(now, summary.PassagesNew, clock.Elapsed.TotalSeconds, summary.Succeeded ? null : $"indexing failed: {string.Join("; ", summary.Failures.Take(3).Select(f => $"{f.Path}: {f.Reason}"))}");
    }

    /// <summary>
    /// Creates the collection over HTTP when it is missing, and uploads the passages (one file each, 500 a request,
    /// each request's job awaited) unless it already has as many; without the documents endpoint, says how to fill it.
    /// </summary>
    private static async Task<Prepared> PrepareRemoteAsync(CliConsole console, ServeClient client, ServeBenchmarkSettings settings, string[] texts, CancellationToken cancellationToken)
    {
        const int FilesPerUpload = 500;
        using (var info = await client.GetCollectionAsync(settings.Collection, cancellationToken))
        {
            if (info.StatusCode == HttpStatusCode.NotFound)
            {
                using var created = await client.CreateCollectionAsync(settings.Collection, cancellationToken);
                if (!created.IsSuccessStatusCode)
                {
                    return new Prepared(0, 0, null, $"collection {settings.Collection} does not exist and PUT /api/collections/{settings.Collection} answered {(int)created.StatusCode} {await ServeClient.ReadPropertyAsync(created, "detail", cancellationToken)}");
                }
            }
            else if (!info.IsSuccessStatusCode)
            {
                return new Prepared(0, 0, null, $"GET /api/collections/{settings.Collection} answered {(int)info.StatusCode} {await ServeClient.ReadPropertyAsync(info, "detail", cancellationToken)}");
            }
            else if (long.TryParse(await ServeClient.ReadPropertyAsync(info, "passages", cancellationToken), CultureInfo.InvariantCulture, out long existing) && existing >= texts.Length)
            {
                return new Prepared(existing, 0, null, null);
            }
        }

        var clock = Stopwatch.StartNew();
        string? failure = await console.RunWithProgressAsync($"uploading {texts.Length:N0} passages into {settings.Collection} ({FilesPerUpload} files a request; unchanged ones are skipped)", async progress =>
        {
            for (int first = 0; first < texts.Length; first += FilesPerUpload)
            {
                var files = Enumerable.Range(first, Math.Min(FilesPerUpload, texts.Length - first)).Select(i => (string.Create(CultureInfo.InvariantCulture, $"p{i}.txt"), texts[i]));
                using var response = await client.UploadAsync(settings.Collection, files, cancellationToken);
                if (response.StatusCode != HttpStatusCode.Accepted)
                {
                    return response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed
                        ? $"collection {settings.Collection} has fewer than {texts.Length:N0} passages and the server has no documents endpoint ({(int)response.StatusCode}): index them first, or run with --start"
                        : $"uploading passages: {(int)response.StatusCode} {await ServeClient.ReadPropertyAsync(response, "detail", cancellationToken)}";
                }

                string? job = await ServeClient.JobAddressAsync(response, cancellationToken);
                var (state, _, _) = job is null ? ("no job in the 202", false, 0) : await client.WaitForJobAsync(job, settings.JobTimeout, cancellationToken);
                if (state != "succeeded")
                {
                    return $"uploading passages: job {job} {state}";
                }

                progress.Report((Math.Min(texts.Length, first + FilesPerUpload), texts.Length, string.Create(CultureInfo.InvariantCulture, $"{clock.Elapsed.TotalSeconds:F0} s")));
            }

            return null;
        });
        using var after = await client.GetCollectionAsync(settings.Collection, cancellationToken);
        long passages = long.TryParse(await ServeClient.ReadPropertyAsync(after, "passages", cancellationToken), CultureInfo.InvariantCulture, out long count) ? count : 0;
        return new Prepared(passages, null, clock.Elapsed.TotalSeconds, failure);
    }

    /// <summary>Null when an ask (one, untimed: it also warms the generator up) is answered, else why the ask phase is skipped.</summary>
    private static async Task<string?> ProbeAskAsync(ServeClient client, ServeBenchmarkSettings settings, string[] texts, Random random, CancellationToken cancellationToken)
    {
        using var response = await client.AskAsync(settings.Collection, Query(texts, random, 8), 4, settings.AskTokens, cancellationToken);
        return response.IsSuccessStatusCode ? null
            : response.StatusCode == HttpStatusCode.NotImplemented ? "the server has no generator (ask answered 501)"
            : $"the first ask answered {(int)response.StatusCode} {await ServeClient.ReadPropertyAsync(response, "detail", cancellationToken)}".TrimEnd();
    }

    /// <summary>
    /// <paramref name="clients"/> clients, each sending <paramref name="send"/>'s request as soon as its last one is
    /// answered, for <paramref name="seconds"/>; requests still in flight then may finish within <see cref="s_grace"/>.
    /// <paramref name="beside"/> runs alongside until the same deadline (the writer), then finishes what it waits for
    /// (its last job) within <paramref name="besideGrace"/>.
    /// </summary>
    /// <param name="pid">The server's process for its peak memory; null: this one; -1: unknown.</param>
    private static async Task<LoadPhaseResult> RunPhaseAsync(
        CliConsole console, string name, int clients, int seconds, int? pid,
        Func<long, CancellationToken, Task>? beside, TimeSpan besideGrace, Func<Random, CancellationToken, Task<HttpResponseMessage>> send, Random seeds, CancellationToken cancellationToken)
    {
        var recorder = new LoadRecorder((int)Math.Min(int.MaxValue / 2, (long)seconds * TimedRequestsPerSecond));
        using var cut = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cut.CancelAfter(TimeSpan.FromSeconds(seconds) + s_grace);
        long started = Stopwatch.GetTimestamp();
        long deadline = started + (long)(seconds * (double)Stopwatch.Frequency);
        int[] workerSeeds = [.. Enumerable.Range(0, clients).Select(_ => seeds.Next())];

        async Task ClientAsync(int worker)
        {
            var random = new Random(workerSeeds[worker]);
            while (Stopwatch.GetTimestamp() < deadline)
            {
                long sent = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await send(random, cut.Token);
                    await response.Content.LoadIntoBufferAsync(cut.Token);
                    recorder.Completed((int)response.StatusCode, Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
                    if (response.StatusCode == HttpStatusCode.TooManyRequests)
                    {
                        // Over the key's rate: wait as asked (a 429 is counted among the 4xx), not spin on refusals.
                        await Task.Delay(ServeClient.RetryAfter(response), cut.Token);
                    }
                }
                catch (OperationCanceledException) when (cut.IsCancellationRequested)
                {
                    return; // past the grace time: cut, not counted
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
                {
                    // A timeout inside the handler, a refused or reset connection: no HTTP answer.
                    recorder.TransportError();
                }
            }
        }

        using var besideCut = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        besideCut.CancelAfter(TimeSpan.FromSeconds(seconds) + besideGrace + s_grace);
        var tasks = Enumerable.Range(0, clients).Select(worker => Task.Run(() => ClientAsync(worker), CancellationToken.None)).ToList();
        Task? besideTask = beside is null ? null : Task.Run(() => beside(deadline, besideCut.Token), CancellationToken.None);
        await console.RunWithStatusAsync($"{name}: {clients} concurrent clients for {seconds} s{(beside is null ? string.Empty : ", one writer uploading beside them")}", async () =>
        {
            await Task.WhenAll(tasks);
            return true;
        });
        var elapsed = Stopwatch.GetElapsedTime(started);
        long? peak = pid == -1 ? null : PeakMemory.ResidentBytes(pid);
        if (besideTask is not null)
        {
            try
            {
                await console.RunWithStatusAsync($"{name}: waiting for the writer's last job", async () =>
                {
                    await besideTask;
                    return true;
                });
            }
            catch (OperationCanceledException) when (besideCut.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // The writer's last upload or job outlived every allowance: it counts as not searchable.
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        return recorder.Result(name, clients, elapsed, peak);
    }

    /// <summary>The collection before the phases: its passages, how many were embedded now (null: unknown, remote), how long filling it took (null: reused), or why it could not be filled.</summary>
    internal sealed record Prepared(long Passages, long? Embedded, double? Seconds, string? Problem);
}
