using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using T5Gemma2.Rag.Server.Security;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>Per-key rate limits: 429 with Retry-After past the burst, for that key only.</summary>
public sealed class ServerLimitTests : IDisposable
{
    private readonly KnowledgeBaseServerFactory _server = new(options =>
    {
        options.RequestsPerSecondPerKey = 1;
        options.BurstPerKey = 3;
    });

    public void Dispose() => this._server.Dispose();

    [Fact]
    public async Task AKeyPastItsBurstGets429WithRetryAfterWhileAnotherKeyIsServed()
    {
        var ct = TestContext.Current.CancellationToken;
        await this._server.Collections.OpenOrCreateAsync("docs", ct);
        using var busy = this._server.ClientWithKey(this._server.CreateKey("busy", ApiKeyRole.Reader, "docs"));
        using var quiet = this._server.ClientWithKey(this._server.CreateKey("quiet", ApiKeyRole.Reader, "docs"));

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? refused = null;
        for (int i = 0; i < 8 && refused is null; i++)
        {
            var response = await busy.GetAsync("/api/collections/docs", ct);
            statuses.Add(response.StatusCode);
            refused = response.StatusCode == HttpStatusCode.TooManyRequests ? response : null;
        }

        Assert.NotNull(refused);
        Assert.True(statuses.Count(s => s == HttpStatusCode.OK) >= 3, string.Join(",", statuses));
        Assert.True(int.Parse(refused!.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        using var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync(ct));
        Assert.Equal(429, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Contains("busy", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await quiet.GetAsync("/api/collections/docs", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await busy.GetAsync("/healthz", ct)).StatusCode);
    }
}
