using System.Net;
using T5Gemma2.Rag.Server.Security;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>
/// Who may scrape <c>/metrics</c>: an admin key, or the local operator while no key exists — and nobody a proxy,
/// a browser page or a rebinding name brings, nor a reader or writer key.
/// </summary>
public sealed class MetricsAccessTests : IDisposable
{
    private readonly KnowledgeBaseServerFactory _server = new();

    public void Dispose() => this._server.Dispose();

    [Fact]
    public async Task TheLocalOperatorMayScrapeWhileNoKeyExistsButNotThroughAProxyAPageOrARebindingName()
    {
        using var client = this._server.ClientWithKey(null);
        var scrape = await MetricsScrapes.ScrapeAsync(client);
        // Only that the scrape is the service's: values are ServerMetricsTests' business, since every server in this
        // test process records on the same meter name and another test's queued job may be in this scrape.
        Assert.Equal("gauge", scrape.Types["t5rag_ingest_queue_depth"]);

        foreach (var (header, value) in new[]
        {
            ("X-Forwarded-For", "127.0.0.1"),
            ("Forwarded", "for=127.0.0.1"),
            ("Host", "rebind.evil.example"),
            ("Origin", "https://evil.example"),
            ("Sec-Fetch-Site", "cross-site"),
        })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
            request.Headers.TryAddWithoutValidation(header, value);
            using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
            string body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{header}: {value} got {response.StatusCode}");
            Assert.DoesNotContain("t5rag_", body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task OnceKeysExistOnlyAnAdminKeyMayScrape()
    {
        string admin = this._server.CreateKey("ops", ApiKeyRole.Admin, "*");
        string writer = this._server.CreateKey("ingest", ApiKeyRole.Writer, "*");
        string reader = this._server.CreateKey("app", ApiKeyRole.Reader, "*");

        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(reader));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(writer));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(null));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(admin + "x"));

        using var client = this._server.ClientWithKey(admin);
        var scrape = await MetricsScrapes.ScrapeAsync(client);
        Assert.Contains(scrape.Samples, s => s.Name == "http_server_request_duration_seconds_count" && s.Labels["http_route"] == "/metrics" && s.Labels["http_response_status_code"] == "403");

        async Task<HttpStatusCode> StatusAsync(string? key)
        {
            using var caller = this._server.ClientWithKey(key);
            using var response = await caller.GetAsync("/metrics", TestContext.Current.CancellationToken);
            return response.StatusCode;
        }
    }
}
