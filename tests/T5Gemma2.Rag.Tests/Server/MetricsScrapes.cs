using System.Diagnostics;
using System.Net;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>Scrapes <c>/metrics</c> as Prometheus does, and parses what it gets.</summary>
internal static class MetricsScrapes
{
    public const string SearchRoute = "/api/collections/{name}/search";

    public static async Task<PrometheusText> ScrapeAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/metrics", TestContext.Current.CancellationToken);
        string body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET /metrics: {response.StatusCode} {body}");
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        return PrometheusText.Parse(body);
    }

    /// <summary>
    /// Scrapes until <paramref name="ready"/> holds (ten seconds at most), and returns that scrape: ASP.NET Core counts
    /// a request as its pipeline ends, which can be just after its client has read the response.
    /// </summary>
    public static async Task<PrometheusText> ScrapeUntilAsync(HttpClient client, Func<PrometheusText, bool> ready)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var scrape = await ScrapeAsync(client);
            if (ready(scrape) || clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                return scrape;
            }

            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Requests to a route that ended with a status, by ASP.NET Core's <c>http.server.request.duration</c> histogram.</summary>
    public static double Requests(this PrometheusText scrape, string route, string method, int status) =>
        scrape.Sum("http_server_request_duration_seconds_count", ("http_route", route), ("http_request_method", method), ("http_response_status_code", status.ToString(System.Globalization.CultureInfo.InvariantCulture)));
}
