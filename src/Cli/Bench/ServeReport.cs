using System.Globalization;
using T5Gemma2.Rag.Cli.Console;

namespace T5Gemma2.Rag.Cli.Bench;

/// <summary>
/// What <c>t5rag bench serve</c> prints: the server and collection, one table row per load phase, the writer's
/// uploads and how many of them search finds, the targets met or missed; or all of it as one JSON object.
/// </summary>
internal sealed class ServeReport(
    Uri address,
    bool inProcess,
    ServeBenchmarkSettings settings,
    ServeBenchmark.Prepared prepared,
    LoadPhaseResult search,
    LoadPhaseResult? ask,
    string? askSkipped,
    UploadWriter writer,
    int found,
    IReadOnlyList<string> missing,
    bool? peakReset)
{
    private static readonly CultureInfo s_culture = CultureInfo.InvariantCulture;

    /// <summary>No 5xx in any phase, some searches answered 2xx, and every accepted upload found by search.</summary>
    public bool MetTargets => this.Missed().Count == 0;

    public async Task WriteAsync(CliConsole console, bool json)
    {
        if (json)
        {
            await console.Out.WriteLineAsync(CliJson.Serialize(this.Json()));
            return;
        }

        await console.Out.WriteLineAsync($"server: {address} ({(inProcess ? "started in this process" : "running elsewhere")}); collection {settings.Collection}: {prepared.Passages.ToString("N0", s_culture)} passages ({this.PreparedInWords()})");
        LoadPhaseResult[] phases = ask is null ? [search] : [search, ask];
        console.WriteTable(
            "serve benchmark: load phases (latency to the response's last byte; 4xx, 5xx, transport = no HTTP response; target: no 5xx)",
            ["phase", "clients", "seconds", "requests", "requests/s", "p50 ms", "p99 ms", "2xx", "4xx", "5xx", "transport", "peak RSS MiB"],
            phases.Select(p => (string[])[
                p.Name,
                p.Clients.ToString(s_culture),
                p.Seconds.ToString("F1", s_culture),
                p.Requests.ToString(s_culture),
                p.RequestsPerSecond.ToString("F1", s_culture),
                p.P50Milliseconds?.ToString("F1", s_culture) ?? "-",
                p.P99Milliseconds?.ToString("F1", s_culture) ?? "-",
                p.Successes.ToString(s_culture),
                p.ClientErrors.ToString(s_culture),
                p.ServerErrors.ToString(s_culture),
                p.TransportErrors.ToString(s_culture),
                p.PeakResidentBytes is { } bytes ? (bytes / 1048576.0).ToString("F0", s_culture) : "unknown",
            ]));
        foreach (var phase in phases)
        {
            await console.Out.WriteLineAsync($"statuses, {phase.Name}: {string.Join(", ", phase.Statuses.Select(s => $"{s.Key} ×{s.Value}"))}{(phase.Untimed > 0 ? $"; {phase.Untimed} answered past the {phase.Requests - phase.Untimed - phase.TransportErrors} timed" : string.Empty)}");
        }

        await console.Out.WriteLineAsync($"uploads: {this.UploadsInWords()}");
        if (missing.Count > 0)
        {
            await console.Out.WriteLineAsync($"not found by search: {string.Join(", ", missing.Take(10))}{(missing.Count > 10 ? $" and {missing.Count - 10} more" : string.Empty)}");
        }

        if (askSkipped is not null)
        {
            await console.Out.WriteLineAsync($"ask: skipped, {askSkipped}");
        }

        await console.Out.WriteLineAsync($"peak RSS: {this.PeakInWords()}");
        var missed = this.Missed();
        await console.Out.WriteLineAsync(missed.Count == 0 ? $"targets: met (no 5xx{(writer.Unavailable is null ? ", every upload searchable" : string.Empty)})" : $"targets missed: {string.Join("; ", missed)}");
    }

    private List<string> Missed()
    {
        var missed = new List<string>();
        int serverErrors = search.ServerErrors + (ask?.ServerErrors ?? 0);
        if (serverErrors > 0)
        {
            missed.Add($"{serverErrors} responses were 5xx");
        }

        if (search.Successes == 0)
        {
            missed.Add("no search was answered 2xx");
        }

        if (writer.Unavailable is null && found < writer.Accepted.Count)
        {
            missed.Add($"{writer.Accepted.Count - found} of {writer.Accepted.Count} uploaded documents not found by search");
        }

        return missed;
    }

    private string PreparedInWords() => prepared.Seconds is not { } seconds
        ? "reused: it had as many as asked"
        : prepared.Embedded is { } embedded
            ? string.Create(s_culture, $"{embedded:N0} embedded now in {seconds:F1} s, in process through the collection's ingest pipeline")
            : string.Create(s_culture, $"uploaded through the documents endpoint in {seconds:F1} s");

    private string UploadsInWords()
    {
        if (writer.Unavailable is { } why)
        {
            return why;
        }

        var jobs = writer.Accepted.GroupBy(u => u.State ?? "not finished").Select(g => $"{g.Count()} {g.Key}");
        var seconds = writer.Accepted.Where(u => u.Seconds is not null).Select(u => u.Seconds!.Value).ToList();
        string timing = seconds.Count == 0 ? string.Empty : string.Create(s_culture, $"; 202 to job end p50 {Percentile.Of(seconds, 0.50):F2} s, p99 {Percentile.Of(seconds, 0.99):F2} s");
        string refused = writer.Refused.Count == 0 ? string.Empty : $"; refused: {string.Join(", ", writer.Refused.Select(r => $"{r.Key} ×{r.Value}"))}";
        string transport = writer.TransportErrors == 0 ? string.Empty : $"; {writer.TransportErrors} without an HTTP response";
        return $"{writer.Accepted.Count} accepted (202) by one writer during the search phase, jobs: {(writer.Accepted.Count == 0 ? "none" : string.Join(", ", jobs))}{timing}{refused}{transport}; searchable afterwards (keyword search for each one's marker word): {found}/{writer.Accepted.Count}";
    }

    private string PeakInWords() => (inProcess, peakReset) switch
    {
        (_, null) => "unknown (a server running elsewhere: give --server-pid to read its /proc/<pid>/status)",
        (true, true) => "of this process, server and clients together, during each phase (VmHWM, reset before the phase)",
        (true, false) => "of this process, server and clients together, since it started (VmHWM could not be reset)",
        (false, true) => $"of process {settings.ServerProcessId}, during each phase (VmHWM, reset before the phase)",
        (false, false) => $"of process {settings.ServerProcessId} since it started (its VmHWM could not be reset)",
    };

    private object Json() => new
    {
        server = address.ToString(),
        in_process = inProcess,
        collection = settings.Collection,
        passages = prepared.Passages,
        prepared = new { reused = prepared.Seconds is null, embedded = prepared.Embedded, seconds = prepared.Seconds },
        phases = (ask is null ? [search] : new[] { search, ask }).Select(p => new
        {
            name = p.Name,
            clients = p.Clients,
            seconds = p.Seconds,
            requests = p.Requests,
            requests_per_second = p.RequestsPerSecond,
            p50_ms = p.P50Milliseconds,
            p99_ms = p.P99Milliseconds,
            untimed = p.Untimed,
            successes = p.Successes,
            client_errors = p.ClientErrors,
            server_errors = p.ServerErrors,
            transport_errors = p.TransportErrors,
            statuses = p.Statuses.ToDictionary(s => s.Key.ToString(s_culture), s => s.Value),
            peak_rss_bytes = p.PeakResidentBytes,
        }),
        ask_skipped = askSkipped,
        uploads = new
        {
            available = writer.Unavailable is null,
            unavailable = writer.Unavailable,
            accepted = writer.Accepted.Count,
            jobs = writer.Accepted.GroupBy(u => u.State ?? "not finished").ToDictionary(g => g.Key, g => g.Count()),
            job_seconds = writer.Accepted.Where(u => u.Seconds is not null).Select(u => u.Seconds!.Value),
            refused = writer.Refused.ToDictionary(r => r.Key.ToString(s_culture), r => r.Value),
            transport_errors = writer.TransportErrors,
            searchable = found,
            missing,
        },
        peak_rss = this.PeakInWords(),
        targets_missed = this.Missed(),
    };
}
