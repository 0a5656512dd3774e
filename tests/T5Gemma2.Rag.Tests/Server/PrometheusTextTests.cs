using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>The test parser of the Prometheus text format, on an exposition written out by hand: the metrics tests are only as good as it.</summary>
public sealed class PrometheusTextTests
{
    private const string Exposition = """
        # TYPE jobs gauge
        # HELP jobs Jobs by state.
        jobs{state="queued",note="a \"quoted\" \\ back\nslash, and a comma"} 3
        jobs{state="running"} 1 1700000000000
        # TYPE latency_seconds histogram
        latency_seconds_bucket{route="/a/{name}",le="0.1"} 1
        latency_seconds_bucket{route="/a/{name}",le="1"} 4
        latency_seconds_bucket{route="/a/{name}",le="+Inf"} 5
        latency_seconds_sum{route="/a/{name}"} 6.5
        latency_seconds_count{route="/a/{name}"} 5
        # a comment
        up 1e0
        # EOF
        """;

    [Fact]
    public void TypesHelpLabelsEscapesTimestampsAndHistogramsAreRead()
    {
        var text = PrometheusText.Parse(Exposition);
        Assert.Equal("gauge", text.Types["jobs"]);
        Assert.Equal("Jobs by state.", text.Help["jobs"]);
        var queued = Assert.Single(text.Matching("jobs", ("state", "queued")));
        Assert.Equal("a \"quoted\" \\ back\nslash, and a comma", queued.Labels["note"]);
        Assert.Equal(4, text.Sum("jobs"));
        Assert.Equal(1, text.Sum("up"));
        Assert.Equal(0, text.Sum("jobs", ("state", "failed")));

        var latency = text.HistogramOf("latency_seconds", ("route", "/a/{name}"));
        Assert.Equal([(0.1, 1.0), (1.0, 4.0), (double.PositiveInfinity, 5.0)], latency.Buckets);
        Assert.Equal((6.5, 5.0), (latency.Sum, latency.Count));
    }

    [Theory]
    [InlineData("jobs{state=\"queued\" 3")]
    [InlineData("jobs{state=queued} 3")]
    [InlineData("9jobs 3")]
    [InlineData("jobs three")]
    [InlineData("# TYPE jobs meter")]
    public void AMalformedLineFailsTheParse(string line) =>
        Assert.ThrowsAny<Exception>(() => PrometheusText.Parse(line));
}
