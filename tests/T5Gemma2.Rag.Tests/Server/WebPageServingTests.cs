using System.Net;
using System.Text.RegularExpressions;
using T5Gemma2.Rag.Server.Security;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>How the web page's files are served: without a key, under a strict Content-Security-Policy, revalidated by ETag, and opening nothing else.</summary>
public sealed partial class WebPageServingTests : IDisposable
{
    private const string Policy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private readonly KnowledgeBaseServerFactory _server = new();

    public void Dispose() => this._server.Dispose();

    [Theory]
    [InlineData("/", "text/html")]
    [InlineData("/app.js", "text/javascript")]
    [InlineData("/app.css", "text/css")]
    [InlineData("/favicon.svg", "image/svg+xml")]
    public async Task EachFileIsServedWithoutAKeyUnderTheStrictPolicy(string path, string type)
    {
        var ct = TestContext.Current.CancellationToken;
        this._server.CreateKey("someone", ApiKeyRole.Reader, "docs");
        using var client = this._server.ClientWithKey(null);

        using var response = await client.GetAsync(path, ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(type, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(Policy, string.Join("; ", response.Headers.GetValues("Content-Security-Policy")));
        Assert.Equal("nosniff", string.Join(",", response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("no-referrer", string.Join(",", response.Headers.GetValues("Referrer-Policy")));
        Assert.True(response.Headers.CacheControl?.NoCache, "the page is revalidated, so a new server's page is never stale");
        Assert.NotEmpty(await response.Content.ReadAsByteArrayAsync(ct));

        // Unchanged since: a 304 without the body.
        using var again = new HttpRequestMessage(HttpMethod.Get, path);
        again.Headers.IfNoneMatch.Add(response.Headers.ETag!);
        using var revalidated = await client.SendAsync(again, ct);
        Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
    }

    [Fact]
    public async Task ThePageOpensNoDataWithoutAKeyAndHasNoInlineScriptOrStyle()
    {
        var ct = TestContext.Current.CancellationToken;
        this._server.CreateKey("someone", ApiKeyRole.Reader, "docs");
        using var client = this._server.ClientWithKey(null);

        string html = await client.GetStringAsync("/", ct);

        // Everything it shows comes from the API, which still wants the key.
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/collections", ct)).StatusCode);
        Assert.Equal(["app.js"], ScriptTags().Matches(html).Select(m => m.Groups["src"].Value));
        Assert.DoesNotMatch(InlineAttributes(), html);
        Assert.DoesNotContain("<style", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("http://", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("https://", html, StringComparison.OrdinalIgnoreCase);
        string script = await client.GetStringAsync("/app.js", ct);
        Assert.DoesNotContain("innerHTML", script, StringComparison.Ordinal);
        Assert.DoesNotContain("localStorage", script, StringComparison.Ordinal);
    }

    /// <summary>Every script tag, with its src ("" for an inline one).</summary>
    [GeneratedRegex("""<script\b(?:[^>]*\bsrc="(?<src>[^"]*)")?[^>]*>""", RegexOptions.IgnoreCase)]
    private static partial Regex ScriptTags();

    /// <summary>An inline event handler or style attribute.</summary>
    [GeneratedRegex("""\s(?:on[a-z]+|style)\s*=""", RegexOptions.IgnoreCase)]
    private static partial Regex InlineAttributes();
}
