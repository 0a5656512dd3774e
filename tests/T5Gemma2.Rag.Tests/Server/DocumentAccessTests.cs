using System.Net;
using T5Gemma2.Rag.Server.Security;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>
/// Every documents and jobs endpoint tried with the attacks: a writer key of another collection (404, as for a
/// collection or job that does not exist), a reader key (reads, but 403 on writes), no key, a revoked key (401), and
/// paths that climb out of the collection.
/// </summary>
public sealed class DocumentAccessTests : IDisposable
{
    private readonly KnowledgeBaseServerFactory _server = new();

    public void Dispose() => this._server.Dispose();

    [Fact]
    public async Task AnotherCollectionsWriterAReaderAndNoKeyGetOnlyWhatTheirKeysAllow()
    {
        var ct = TestContext.Current.CancellationToken;
        string admin = this._server.CreateKey("admin", ApiKeyRole.Admin, "*");
        string otherWriter = this._server.CreateKey("other-writer", ApiKeyRole.Writer, "other");
        string reader = this._server.CreateKey("docs-reader", ApiKeyRole.Reader, "docs");
        string writer = this._server.CreateKey("docs-writer", ApiKeyRole.Writer, "docs");
        string revoked = this._server.CreateKey("revoked", ApiKeyRole.Admin, "*");
        Assert.True(this._server.Keys.Revoke("revoked"));
        string job;
        using (var client = this._server.ClientWithKey(admin))
        {
            var done = await Uploads.IndexAsync(client, "docs", [Uploads.Text("a.md", "The vault code is 4711.")]);
            job = done.GetProperty("id").GetString()!;
            await Uploads.IndexAsync(client, "other", [Uploads.Text("b.md", "The other collection's secret is 0815.")]);
        }

        string unknownJob = new('0', 32);
        var endpoints = new (string Name, Func<HttpClient, Task<HttpResponseMessage>> Call, HttpStatusCode Reader)[]
        {
            ("upload", c => c.PostAsync("/api/collections/docs/documents", Uploads.Form([Uploads.Text("c.md", "More.")]), ct), HttpStatusCode.Forbidden),
            ("list", c => c.GetAsync("/api/collections/docs/documents", ct), HttpStatusCode.OK),
            ("get", c => c.GetAsync("/api/collections/docs/documents/a.md", ct), HttpStatusCode.OK),
            ("delete", c => c.DeleteAsync("/api/collections/docs/documents/a.md", ct), HttpStatusCode.Forbidden),
            ("job", c => c.GetAsync($"/api/jobs/{job}", ct), HttpStatusCode.OK),
            ("events", c => c.GetAsync($"/api/jobs/{job}/events", ct), HttpStatusCode.OK),
        };
        foreach (var (name, call, readerStatus) in endpoints)
        {
            using (var client = this._server.ClientWithKey(otherWriter))
            {
                using var response = await call(client);
                Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{name} with another collection's writer: {response.StatusCode}");
                string body = await response.Content.ReadAsStringAsync(ct);
                Assert.DoesNotContain("vault code", body, StringComparison.Ordinal);
                Assert.DoesNotContain("a.md", body, StringComparison.Ordinal);
            }

            using (var client = this._server.ClientWithKey(reader))
            {
                using var response = await call(client);
                Assert.True(response.StatusCode == readerStatus, $"{name} with a reader: {response.StatusCode}");
            }

            foreach (string? key in new[] { null, revoked, "t5rag_" + new string('A', 43) })
            {
                using var client = this._server.ClientWithKey(key);
                using var response = await call(client);
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{name} with key {key?[..6]}: {response.StatusCode}");
            }
        }

        // A job of another collection reads exactly as one that does not exist.
        using (var client = this._server.ClientWithKey(otherWriter))
        {
            using var theirs = await client.GetAsync($"/api/jobs/{job}", ct);
            using var none = await client.GetAsync($"/api/jobs/{unknownJob}", ct);
            Assert.Equal(
                (await none.Content.ReadAsStringAsync(ct)).Split("trace_id")[0].Replace(unknownJob, "X", StringComparison.Ordinal),
                (await theirs.Content.ReadAsStringAsync(ct)).Split("trace_id")[0].Replace(job, "X", StringComparison.Ordinal));
        }

        // Nothing the refused calls did stuck: the document is there, nothing more was uploaded, nothing staged.
        using (var client = this._server.ClientWithKey(writer))
        {
            Assert.Equal(["a.md"], (await Uploads.DocumentsAsync(client, "docs")).Select(d => d.GetProperty("document_id").GetString()));
            Assert.Equal("succeeded", (await Uploads.IndexAsync(client, "docs", [Uploads.Text("c.md", "More.")])).GetProperty("state").GetString());
            Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("/api/collections/docs/documents/c.md", ct)).StatusCode);
        }
    }

    [Fact]
    public async Task PathsThatClimbOutOfTheCollectionReachNothingTheKeyDoesNotCover()
    {
        var ct = TestContext.Current.CancellationToken;
        string admin = this._server.CreateKey("admin", ApiKeyRole.Admin, "*");
        string writer = this._server.CreateKey("docs-writer", ApiKeyRole.Writer, "docs");
        using (var client = this._server.ClientWithKey(admin))
        {
            await Uploads.IndexAsync(client, "docs", [Uploads.Text("a.md", "Public text.")]);
            await Uploads.IndexAsync(client, "other", [Uploads.Text("b.md", "The other collection's secret is 0815.")]);
        }

        using var writerClient = this._server.ClientWithKey(writer);
        foreach (string path in new[] { "..%2F..%2Fother%2Fdocuments%2Fb.md", "%2E%2E/%2E%2E/other/documents/b.md", "../../other/documents/b.md", "..\\..\\other\\documents\\b.md" })
        {
            foreach (var method in new[] { HttpMethod.Get, HttpMethod.Delete })
            {
                using var request = new HttpRequestMessage(method, $"/api/collections/docs/documents/{path}");
                using var response = await writerClient.SendAsync(request, ct);
                Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {path}: {response.StatusCode}");
                Assert.DoesNotContain("secret is", await response.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
            }
        }

        // An upload whose file name climbs stays a document of this collection.
        var job = await Uploads.IndexAsync(writerClient, "docs", [Uploads.Text("../../other/documents/b.md", "Overwritten?")]);
        Assert.Equal("other/documents/b.md", job.GetProperty("files")[0].GetProperty("document_id").GetString());
        using var adminClient = this._server.ClientWithKey(admin);
        var other = await Uploads.GetJsonAsync(adminClient, "/api/collections/other/documents/b.md");
        Assert.Equal("b.md", other.GetProperty("source").GetString());
        Assert.Equal(["b.md"], await Uploads.SearchAsync(adminClient, "other", new { query = "0815", mode = "keyword" }));
    }
}
