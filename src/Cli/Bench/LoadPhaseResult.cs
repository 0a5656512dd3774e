namespace T5Gemma2.Rag.Cli.Bench;

/// <summary>One load phase of <c>t5rag bench serve</c>, as reported.</summary>
/// <param name="Requests">Requests sent and finished: those answered (any status) and those that failed below HTTP.</param>
/// <param name="P50Milliseconds">Median latency of the answered requests, to the last byte of the response; null when none was.</param>
/// <param name="Untimed">Answered requests past the preallocated latency array: counted, not in the percentiles.</param>
/// <param name="Successes">2xx responses.</param>
/// <param name="ClientErrors">4xx responses (429 among them when a key's rate limit was reached).</param>
/// <param name="ServerErrors">5xx responses: the target is none.</param>
/// <param name="TransportErrors">No HTTP response: refused, reset, timed out.</param>
/// <param name="Statuses">Responses per HTTP status.</param>
/// <param name="PeakResidentBytes">The server's peak resident memory during the phase (or since it started, where it cannot be reset); null when unknown.</param>
internal sealed record LoadPhaseResult(
    string Name,
    int Clients,
    double Seconds,
    int Requests,
    double RequestsPerSecond,
    double? P50Milliseconds,
    double? P99Milliseconds,
    int Untimed,
    int Successes,
    int ClientErrors,
    int ServerErrors,
    int TransportErrors,
    IReadOnlyDictionary<int, int> Statuses,
    long? PeakResidentBytes);
