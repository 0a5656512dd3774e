namespace T5Gemma2.Rag.Cli.Bench;

/// <summary>
/// What the clients of one load phase saw, recorded from every client without a lock: each completed request's
/// latency in an array allocated before the phase (so recording allocates nothing and the percentiles are over every
/// timed request, not a sample), the count per HTTP status, and failures below HTTP (refused or reset connections,
/// timeouts).
/// </summary>
internal sealed class LoadRecorder
{
    private readonly double[] _latencies;
    private readonly int[] _statuses = new int[600];
    private int _completed;
    private int _transport;

    /// <param name="capacity">Latencies kept; requests past it are counted but not timed (the result says how many).</param>
    public LoadRecorder(int capacity) => this._latencies = new double[Math.Max(1, capacity)];

    /// <summary>A request that got a response with <paramref name="status"/>, read whole after <paramref name="milliseconds"/>.</summary>
    public void Completed(int status, double milliseconds)
    {
        int slot = Interlocked.Increment(ref this._completed) - 1;
        if (slot < this._latencies.Length)
        {
            this._latencies[slot] = milliseconds;
        }

        Interlocked.Increment(ref this._statuses[Math.Clamp(status, 0, this._statuses.Length - 1)]);
    }

    /// <summary>A request that got no HTTP response (connection refused or reset, a timeout).</summary>
    public void TransportError() => Interlocked.Increment(ref this._transport);

    /// <summary>The phase's figures, over <paramref name="elapsed"/> of wall time with <paramref name="clients"/> concurrent clients.</summary>
    public LoadPhaseResult Result(string name, int clients, TimeSpan elapsed, long? peakResidentBytes)
    {
        int completed = Volatile.Read(ref this._completed);
        int timed = Math.Min(completed, this._latencies.Length);
        var latencies = new ArraySegment<double>(this._latencies, 0, timed);
        var statuses = new SortedDictionary<int, int>();
        for (int status = 0; status < this._statuses.Length; status++)
        {
            if (this._statuses[status] > 0)
            {
                statuses[status] = this._statuses[status];
            }
        }

        int Between(int low, int high) => statuses.Where(s => s.Key >= low && s.Key <= high).Sum(s => s.Value);
        int transport = Volatile.Read(ref this._transport);
        return new LoadPhaseResult(
            name,
            clients,
            elapsed.TotalSeconds,
            completed + transport,
            (completed + transport) / Math.Max(elapsed.TotalSeconds, 1e-9),
            timed > 0 ? Percentile.Of(latencies, 0.50) : null,
            timed > 0 ? Percentile.Of(latencies, 0.99) : null,
            completed - timed,
            Between(200, 299),
            Between(400, 499),
            Between(500, 599),
            transport,
            statuses,
            peakResidentBytes);
    }
}
