using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using T5Gemma2.Rag.Server.Jobs;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>
/// Uploads through the documents endpoint on the real MiniLM model, a real embedded store and a real service
/// database: staged, acknowledged, indexed by the worker under the sender's names, searchable; re-uploads, tags, a
/// corrupt file beside good ones, the limits, bad multipart bodies, document ids with '/', and the job's events.
/// </summary>
public sealed class DocumentUploadTests : IDisposable
{
    private const string Attention = "# Merged attention\n\nThe merged attention joins self attention and cross attention in one softmax over both key sets.";
    private const string Vectors = "Qdrant stores vectors in collections, each point with a payload of fields to filter on.";

    private readonly KnowledgeBaseServerFactory _server = new();

    public void Dispose() => this._server.Dispose();

    [Fact]
    public async Task AnUploadIsAcknowledgedWithItsJobThenIndexedUnderTheSendersNamesAndSearchable()
    {
        using var client = this._server.ClientWithKey(null);
        var (response, body) = await Uploads.PostAsync(client, "docs", [Uploads.Text("guide/intro.md", Attention), Uploads.Text("notes.txt", Vectors)]);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{response.StatusCode}: {body}");
        string id = body.GetProperty("job_id").GetString()!;
        Assert.Equal($"/api/jobs/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal($"/api/jobs/{id}", body.GetProperty("status_url").GetString());
        Assert.Equal("docs", body.GetProperty("collection").GetString());
        Assert.Equal(2, body.GetProperty("files").GetInt32());

        var job = await Uploads.WaitForJobAsync(client, id);
        Assert.Equal("succeeded", job.GetProperty("state").GetString());
        Assert.Equal((2, 2, 0), (job.GetProperty("files_total").GetInt32(), job.GetProperty("files_done").GetInt32(), job.GetProperty("files_failed").GetInt32()));
        Assert.Equal(1.0, job.GetProperty("progress").GetDouble());
        Assert.Equal(2, job.GetProperty("documents_new").GetInt32());
        Assert.True(job.TryGetProperty("started_at", out _) && job.TryGetProperty("finished_at", out _));
        var files = job.GetProperty("files").EnumerateArray().ToList();
        Assert.Equal(["guide/intro.md", "notes.txt"], files.Select(f => f.GetProperty("name").GetString()));
        Assert.Equal(["guide/intro.md", "notes.txt"], files.Select(f => f.GetProperty("document_id").GetString()));
        Assert.All(files, f => Assert.Equal("done", f.GetProperty("state").GetString()));

        // The store holds what the job says, under the names, with no trace of the staging folder.
        var info = await (await this._server.Collections.OpenAsync("docs", TestContext.Current.CancellationToken))!.Collection.GetInfoAsync(TestContext.Current.CancellationToken);
        Assert.Equal(2, info.Documents);
        Assert.Equal(info.Passages, job.GetProperty("passages").GetInt64());
        var documents = await Uploads.DocumentsAsync(client, "docs");
        Assert.Equal(["guide/intro.md", "notes.txt"], documents.Select(d => d.GetProperty("source").GetString()));
        using var search = await client.PostAsync("/api/collections/docs/search", Uploads.JsonContent(new { query = "How does merged attention work?", top = 1 }), TestContext.Current.CancellationToken);
        var top = JsonDocument.Parse(await search.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.GetProperty("passages")[0];
        Assert.Equal("guide/intro.md", top.GetProperty("document_id").GetString());
        Assert.Equal("guide/intro.md", top.GetProperty("source").GetString());
        Assert.Equal("Merged attention", top.GetProperty("title").GetString());
        await Uploads.WaitUntilGoneAsync(this.UploadsDirectory());
    }

    [Fact]
    public async Task TheSameFileAgainIsUnchangedAndChangedContentReplacesIt()
    {
        using var client = this._server.ClientWithKey(null);
        var first = await Uploads.IndexAsync(client, "docs", [Uploads.Text("a.md", "The zanzibar protocol checks every request twice.")]);
        Assert.Equal(1, first.GetProperty("documents_new").GetInt32());
        var before = await Uploads.GetJsonAsync(client, "/api/collections/docs/documents/a.md");

        var again = await Uploads.IndexAsync(client, "docs", [Uploads.Text("a.md", "The zanzibar protocol checks every request twice.")]);
        Assert.Equal((0, 0, 1), (again.GetProperty("documents_new").GetInt32(), again.GetProperty("documents_changed").GetInt32(), again.GetProperty("documents_unchanged").GetInt32()));
        Assert.Equal(first.GetProperty("passages").GetInt64(), again.GetProperty("passages").GetInt64());
        var unchanged = await Uploads.GetJsonAsync(client, "/api/collections/docs/documents/a.md");
        Assert.Equal(before.GetProperty("indexed_at").GetString(), unchanged.GetProperty("indexed_at").GetString());
        Assert.Equal(before.GetProperty("content_hash").GetString(), unchanged.GetProperty("content_hash").GetString());

        var changed = await Uploads.IndexAsync(client, "docs", [Uploads.Text("a.md", "The borealis protocol checks each request once.")]);
        Assert.Equal(1, changed.GetProperty("documents_changed").GetInt32());
        var after = await Uploads.GetJsonAsync(client, "/api/collections/docs/documents/a.md");
        Assert.NotEqual(before.GetProperty("content_hash").GetString(), after.GetProperty("content_hash").GetString());
        Assert.Single(await Uploads.DocumentsAsync(client, "docs"));
        Assert.Empty(await Uploads.SearchAsync(client, "docs", new { query = "zanzibar", mode = "keyword" }));
        Assert.Equal(["a.md"], await Uploads.SearchAsync(client, "docs", new { query = "borealis", mode = "keyword" }));
    }

    [Fact]
    public async Task TagsGoOnEveryPassageOfTheJobAndFilterSearches()
    {
        using var client = this._server.ClientWithKey(null);
        var red = await Uploads.IndexAsync(client, "docs", [Uploads.Text("red.md", "The red team owns the billing service and its invoices.")], "team=red", "tier=1");
        await Uploads.IndexAsync(client, "docs", [Uploads.Text("blue.md", "The blue team owns the billing service dashboards.")], "team=blue");
        Assert.Equal("red", red.GetProperty("tags").GetProperty("team").GetString());
        Assert.Equal("1", red.GetProperty("tags").GetProperty("tier").GetString());

        Assert.Equal(["red.md"], await Uploads.SearchAsync(client, "docs", new { query = "billing service", filters = new { tags = new { team = "red" } } }));
        Assert.Equal(["blue.md"], await Uploads.SearchAsync(client, "docs", new { query = "billing service", filters = new { tags = new { team = "blue" } } }));
        Assert.Equal(["blue.md", "red.md"], (await Uploads.SearchAsync(client, "docs", new { query = "billing service" })).Order(StringComparer.Ordinal));

        // Tags are part of what makes a document changed: the same file with other tags is replaced, and the old tag finds nothing.
        var retagged = await Uploads.IndexAsync(client, "docs", [Uploads.Text("red.md", "The red team owns the billing service and its invoices.")], "team=green");
        Assert.Equal(1, retagged.GetProperty("documents_changed").GetInt32());
        Assert.Empty(await Uploads.SearchAsync(client, "docs", new { query = "billing service", filters = new { tags = new { team = "red" } } }));
        Assert.Equal(["red.md"], await Uploads.SearchAsync(client, "docs", new { query = "billing service", filters = new { tags = new { team = "green" } } }));
    }

    [Fact]
    public async Task ACorruptPdfAmongGoodFilesFailsAloneWithItsReason()
    {
        using var client = this._server.ClientWithKey(null);
        byte[] garbage = new byte[8192];
        new Random(16).NextBytes(garbage);
        byte[] pdf = [.. "%PDF-1.7\n"u8.ToArray(), .. garbage];
        var job = await Uploads.IndexAsync(client, "docs", [Uploads.Text("a.md", Attention), ("broken.pdf", pdf), Uploads.Text("b.md", Vectors)]);

        Assert.Equal("completed_with_errors", job.GetProperty("state").GetString());
        Assert.Equal((2, 1), (job.GetProperty("files_done").GetInt32(), job.GetProperty("files_failed").GetInt32()));
        var broken = job.GetProperty("files")[1];
        Assert.Equal(("broken.pdf", "failed"), (broken.GetProperty("name").GetString(), broken.GetProperty("state").GetString()));
        string reason = broken.GetProperty("reason").GetString()!;
        Assert.Contains("PDF", reason, StringComparison.Ordinal);
        Assert.DoesNotContain(".uploads", reason, StringComparison.Ordinal);
        Assert.False(job.TryGetProperty("error", out _));
        Assert.Equal(["a.md", "b.md"], (await Uploads.DocumentsAsync(client, "docs")).Select(d => d.GetProperty("document_id").GetString()));
        Assert.Equal("a.md", (await Uploads.SearchAsync(client, "docs", new { query = "merged attention softmax", top = 1 }))[0]);
    }

    [Fact]
    public async Task AFileNoLoaderReadsIsRefusedUpFrontNamingItAndNothingIsStaged()
    {
        using var client = this._server.ClientWithKey(null);
        var (response, body) = await Uploads.PostAsync(client, "docs", [Uploads.Text("a.md", Attention), ("tools/setup.exe", [0x4D, 0x5A, 0x90, 0x00])]);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("files[1]", body.GetProperty("field").GetString());
        string detail = body.GetProperty("detail").GetString()!;
        Assert.Contains("tools/setup.exe", detail, StringComparison.Ordinal);
        Assert.Contains(".md", detail, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(this.UploadsDirectory()));
        Assert.DoesNotContain("docs", await this._server.Collections.ListAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task AnUploadOverTheLimitIs413NamingItAndLeavesNothingStaged()
    {
        using var server = new KnowledgeBaseServerFactory(o => o.MaxUploadBytes = 10_000);
        using var client = server.ClientWithKey(null);
        foreach (var files in new[] { [Uploads.Text("big.md", new string('a', 20_000))], new[] { Uploads.Text("a.md", new string('a', 6_000)), Uploads.Text("b.md", new string('b', 6_000)) } })
        {
            var (response, body) = await Uploads.PostAsync(client, "docs", files);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Contains("10,000", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        string uploads = server.Services.GetRequiredService<IngestJobStore>().UploadsDirectory;
        Assert.Empty(Directory.EnumerateFileSystemEntries(uploads));
        var job = await Uploads.IndexAsync(client, "docs", [Uploads.Text("a.md", new string('a', 6_000))]);
        Assert.Equal("succeeded", job.GetProperty("state").GetString());
    }

    [Fact]
    public async Task AFullQueueIs503WithRetryAfterAndTakesUploadsAgainOnceItDrains()
    {
        using var server = new KnowledgeBaseServerFactory(o => o.MaxQueuedJobs = 1);
        using var client = server.ClientWithKey(null);
        var ct = TestContext.Current.CancellationToken;

        // The collection's write lock held: the worker takes the first job and waits, running.
        var services = await server.Collections.OpenOrCreateAsync("docs", ct);
        var release = new TaskCompletionSource();
        var holding = services.WriteAsync(async _ =>
        {
            await release.Task.WaitAsync(ct);
            return 0;
        }, ct);
        var (first, accepted) = await Uploads.PostAsync(client, "docs", [Uploads.Text("a.md", Attention)]);
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        string id = accepted.GetProperty("job_id").GetString()!;
        await WaitForStateAsync(client, id, "running");

        var (second, refused) = await Uploads.PostAsync(client, "docs", [Uploads.Text("b.md", Vectors)]);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, second.StatusCode);
        Assert.True(second.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Contains("MaxQueuedJobs", refused.GetProperty("detail").GetString(), StringComparison.Ordinal);

        release.SetResult();
        await holding;
        Assert.Equal("succeeded", (await Uploads.WaitForJobAsync(client, id)).GetProperty("state").GetString());
        Assert.Equal("succeeded", (await Uploads.IndexAsync(client, "docs", [Uploads.Text("b.md", Vectors)])).GetProperty("state").GetString());
        await Uploads.WaitUntilGoneAsync(server.Services.GetRequiredService<IngestJobStore>().UploadsDirectory);
    }

    [Fact]
    public async Task BadMultipartBodiesAreProblemsThatNameThePartAndLeaveNothing()
    {
        using var client = this._server.ClientWithKey(null);
        var ct = TestContext.Current.CancellationToken;
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await client.PostAsync("/api/collections/docs/documents", Uploads.JsonContent(new { files = "a.md" }), ct)).StatusCode);

        (string ContentType, string Body, HttpStatusCode Status, string? Field)[] cases =
        [
            ("multipart/form-data", "--b\r\n\r\n--b--\r\n", HttpStatusCode.BadRequest, "Content-Type"),
            ("multipart/form-data; boundary=b", Part("tags", null, "team=red") + "--b--\r\n", HttpStatusCode.BadRequest, "files"),
            ("multipart/form-data; boundary=b", Part("file", "a.md", "text") + "--b--\r\n", HttpStatusCode.BadRequest, "file"),
            ("multipart/form-data; boundary=b", Part("files", null, "text") + "--b--\r\n", HttpStatusCode.BadRequest, "files[0]"),
            ("multipart/form-data; boundary=b", Part("files", "a\u0007b.md", "text") + "--b--\r\n", HttpStatusCode.BadRequest, "files[0]"),
            ("multipart/form-data; boundary=b", Part("files", "../..", "text") + "--b--\r\n", HttpStatusCode.BadRequest, "files[0]"),
            ("multipart/form-data; boundary=b", Part("files", new string('x', 600) + ".md", "text") + "--b--\r\n", HttpStatusCode.BadRequest, "files[0]"),
            ("multipart/form-data; boundary=b", Part("files", "a.md", "one") + Part("files", "./a.md", "two") + "--b--\r\n", HttpStatusCode.BadRequest, "files[1]"),
            ("multipart/form-data; boundary=b", Part("files", "a.md", "text") + Part("tags", null, "no-equals") + "--b--\r\n", HttpStatusCode.BadRequest, "tags"),
            ("multipart/form-data; boundary=b", Part("files", "a.md", "text") + Part("tags", null, "=red") + "--b--\r\n", HttpStatusCode.BadRequest, "tags"),
            ("multipart/form-data; boundary=b", "no boundary line anywhere in this body", HttpStatusCode.BadRequest, null),
            ("multipart/form-data; boundary=b", Part("files", "a.md", "the body stops in the middle"), HttpStatusCode.BadRequest, null),
        ];
        foreach (var (type, text, status, field) in cases)
        {
            var content = new ByteArrayContent(Encoding.UTF8.GetBytes(text));
            content.Headers.TryAddWithoutValidation("Content-Type", type);
            using var response = await client.PostAsync("/api/collections/docs/documents", content, ct);
            string body = await response.Content.ReadAsStringAsync(ct);
            Assert.True(status == response.StatusCode, $"{text}: {response.StatusCode} {body}");
            using var problem = JsonDocument.Parse(body);
            Assert.False(string.IsNullOrWhiteSpace(problem.RootElement.GetProperty("detail").GetString()));
            if (field is not null)
            {
                Assert.True(problem.RootElement.TryGetProperty("field", out var named) && named.GetString() == field, $"{text}: {body}");
            }
        }

        Assert.Empty(Directory.EnumerateFileSystemEntries(this.UploadsDirectory()));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz", ct)).StatusCode);
    }

    [Fact]
    public async Task FileNamesAreMadePlainDocumentNamesAndNeverNameTheStagedFile()
    {
        using var client = this._server.ClientWithKey(null);
        var job = await Uploads.IndexAsync(client, "docs", [Uploads.Text("../../escape.md", "One."), Uploads.Text("/abs/path.md", "Two."), Uploads.Text("a/./b//c.md", "Three."), Uploads.Text("dir\\sub\\win.md", "Four.")]);
        Assert.Equal("succeeded", job.GetProperty("state").GetString());
        Assert.Equal(["a/b/c.md", "abs/path.md", "dir/sub/win.md", "escape.md"], (await Uploads.DocumentsAsync(client, "docs")).Select(d => d.GetProperty("document_id").GetString()).Order(StringComparer.Ordinal));
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(this.UploadsDirectory())!, "escape.md")));
    }

    [Fact]
    public async Task DocumentIdsWithSlashesSpacesAndEscapesNameOneDocumentEach()
    {
        using var client = this._server.ClientWithKey(null);
        var ct = TestContext.Current.CancellationToken;
        await Uploads.IndexAsync(client, "docs", [Uploads.Text("guide/intro.md", Attention), Uploads.Text("my notes.md", Vectors), Uploads.Text("100%.md", "All of it."), Uploads.Text("z.md", "Last.")]);

        foreach (string path in new[] { "guide/intro.md", "guide%2Fintro.md", "guide%2fintro.md" })
        {
            Assert.Equal("guide/intro.md", (await Uploads.GetJsonAsync(client, $"/api/collections/docs/documents/{path}")).GetProperty("document_id").GetString());
        }

        Assert.Equal("my notes.md", (await Uploads.GetJsonAsync(client, "/api/collections/docs/documents/my%20notes.md")).GetProperty("document_id").GetString());
        Assert.Equal("100%.md", (await Uploads.GetJsonAsync(client, "/api/collections/docs/documents/100%25.md")).GetProperty("document_id").GetString());
        var one = await Uploads.GetJsonAsync(client, "/api/collections/docs/documents/guide/intro.md");
        Assert.True(one.GetProperty("passages").GetInt32() >= 1);
        Assert.Equal(64, one.GetProperty("content_hash").GetString()!.Length);
        foreach (string path in new[] { "GUIDE/intro.md", "..%2Fguide%2Fintro.md", "guide%2F..%2Fguide%2Fintro.md", "%2E%2E/docs/documents/guide/intro.md", "intro.md" })
        {
            using var response = await client.GetAsync($"/api/collections/docs/documents/{path}", ct);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path}: {response.StatusCode}");
        }

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("/api/collections/docs/documents/guide%2Fintro.md", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/collections/docs/documents/guide/intro.md", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync("/api/collections/docs/documents/guide/intro.md", ct)).StatusCode);
        Assert.DoesNotContain("guide/intro.md", await Uploads.SearchAsync(client, "docs", new { query = "merged attention softmax" }));

        // Pages, by id.
        var page = await Uploads.GetJsonAsync(client, "/api/collections/docs/documents?offset=1&limit=1");
        Assert.Equal((3, 1, 1), (page.GetProperty("total").GetInt32(), page.GetProperty("offset").GetInt32(), page.GetProperty("limit").GetInt32()));
        Assert.Equal("my notes.md", page.GetProperty("documents")[0].GetProperty("document_id").GetString());
        Assert.Equal(50, (await Uploads.GetJsonAsync(client, "/api/collections/docs/documents")).GetProperty("limit").GetInt32());
        foreach (var (query, field) in new[] { ("limit=0", "limit"), ("limit=501", "limit"), ("limit=ten", "limit"), ("offset=-1", "offset"), ("offset=1e3", "offset") })
        {
            using var response = await client.GetAsync($"/api/collections/docs/documents?{query}", ct);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            Assert.Equal(field, problem.RootElement.GetProperty("field").GetString());
        }
    }

    [Fact]
    public async Task TheJobsEventsStreamProgressWhileItWaitsAndRunsThenDone()
    {
        using var client = this._server.ClientWithKey(null);
        var ct = TestContext.Current.CancellationToken;
        var services = await this._server.Collections.OpenOrCreateAsync("docs", ct);
        var release = new TaskCompletionSource();
        var holding = services.WriteAsync(async _ =>
        {
            await release.Task.WaitAsync(ct);
            return 0;
        }, ct);
        var (_, accepted) = await Uploads.PostAsync(client, "docs", [Uploads.Text("a.md", Attention), Uploads.Text("b.md", Vectors)]);
        string id = accepted.GetProperty("job_id").GetString()!;

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/jobs/{id}/events");
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        var events = new List<(string Type, JsonElement Data)>();
        string? type = null;
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add((type!, JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone()));
                if (events[^1].Data.GetProperty("state").GetString() == "running")
                {
                    release.TrySetResult();
                }
            }
        }

        await holding;
        Assert.True(events.Count >= 2, string.Join('\n', events));
        Assert.Equal("done", events[^1].Type);
        Assert.Equal("succeeded", events[^1].Data.GetProperty("state").GetString());
        Assert.Equal(1.0, events[^1].Data.GetProperty("progress").GetDouble());
        Assert.All(events[..^1], e => Assert.Equal("progress", e.Type));
        Assert.All(events[..^1], e => Assert.True(e.Data.GetProperty("progress").GetDouble() < 1.0));
        Assert.Contains(events, e => e.Data.GetProperty("state").GetString() == "running");
        Assert.Equal(events.Select(e => e.Data.GetProperty("progress").GetDouble()).Order(), events.Select(e => e.Data.GetProperty("progress").GetDouble()));
    }

    [Fact]
    public async Task AReadOnlyReplicaRefusesUploadsAndDeletesWith503()
    {
        using var server = new KnowledgeBaseServerFactory(o => o.Ingest = false);
        using var client = server.ClientWithKey(null);
        var (response, _) = await Uploads.PostAsync(client, "docs", [Uploads.Text("a.md", Attention)]);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.DeleteAsync("/api/collections/docs/documents/a.md", TestContext.Current.CancellationToken)).StatusCode);
    }

    /// <summary>One part of a hand-made multipart body with boundary "b".</summary>
    private static string Part(string name, string? fileName, string content) =>
        $"--b\r\nContent-Disposition: form-data; name=\"{name}\"{(fileName is null ? "" : $"; filename=\"{fileName}\"")}\r\n\r\n{content}\r\n";

    private static async Task WaitForStateAsync(HttpClient client, string id, string state)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while ((await Uploads.GetJsonAsync(client, $"/api/jobs/{id}")).GetProperty("state").GetString() != state)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), $"job {id} never {state}");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    private string UploadsDirectory()
    {
        string uploads = this._server.Services.GetRequiredService<IngestJobStore>().UploadsDirectory;
        Directory.CreateDirectory(uploads);
        return uploads;
    }
}
