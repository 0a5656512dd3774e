namespace T5Gemma2.Rag.Cli.Bench;

/// <summary>Latency percentiles as benchmarks report them (nearest rank).</summary>
internal static class Percentile
{
    /// <summary>The value at <paramref name="fraction"/> (0.5 = p50, 0.99 = p99) of the sorted values, by nearest rank.</summary>
    public static double Of(IEnumerable<double> values, double fraction)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(fraction * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}
