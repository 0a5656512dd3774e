using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Retrieval;
using T5Gemma2.Rag.Server.Security;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>The API on the real MiniLM model and a real embedded store: collections, search, keys, problem details.</summary>
public sealed class ServerApiTests : IDisposable
{
    private readonly KnowledgeBaseServerFactory _server = new();

    public void Dispose() => this._server.Dispose();

    [Fact]
    public async Task HealthAndReadinessAnswerWithoutAKeyEvenWhenKeysExist()
    {
        this._server.CreateKey("reader", ApiKeyRole.Reader, "docs");
        using var client = this._server.ClientWithKey(null);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz", TestContext.Current.CancellationToken)).StatusCode);
        Assert.True(this._server.Collections.IsReady);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/collections", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task SearchReturnsWhatTheRetrieverFindsWithSourcesAndSnippets()
    {
        var services = await this._server.IndexAsync("docs", ("a.md", "The merged attention joins self and cross attention in one softmax."), ("b.md", "Qdrant stores vectors in collections with payloads."));
        using var client = this._server.ClientWithKey(null);
        using var response = await client.PostAsJsonAsync("/api/collections/docs/search", new { query = "How does merged attention work?", top = 2, mode = "dense" }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        var passages = json.RootElement.GetProperty("passages").EnumerateArray().ToList();

        var expected = await services.Retriever.RetrieveAsync("How does merged attention work?", RetrievalOptions.Default with { Top = 2, Mode = SearchMode.Dense }, TestContext.Current.CancellationToken);
        Assert.Equal(expected.Select(p => p.DocumentId), passages.Select(p => p.GetProperty("document_id").GetString()));
        Assert.Equal(expected.Select(p => p.Score), passages.Select(p => p.GetProperty("score").GetDouble()));
        Assert.Equal("a.md", passages[0].GetProperty("source").GetString());
        Assert.Contains("merged attention", passages[0].GetProperty("snippet").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, passages[0].GetProperty("rank").GetInt32());
    }

    [Fact]
    public async Task AKeyForAnotherCollectionSeesNothingOfThisOneAndCannotCreateOrDelete()
    {
        await this._server.IndexAsync("secret", ("s.md", "The launch code is in the vault."));
        await this._server.IndexAsync("public", ("p.md", "Opening hours are nine to five."));
        string reader = this._server.CreateKey("public-reader", ApiKeyRole.Reader, "public");
        string writer = this._server.CreateKey("public-writer", ApiKeyRole.Writer, "public");
        using var client = this._server.ClientWithKey(reader);
        var ct = TestContext.Current.CancellationToken;

        // Not found, exactly as a collection that does not exist: the name does not leak.
        var searchSecret = await client.PostAsJsonAsync("/api/collections/secret/search", new { query = "launch code" }, ct);
        var searchNone = await client.PostAsJsonAsync("/api/collections/nothing-here/search", new { query = "launch code" }, ct);
        Assert.Equal(HttpStatusCode.NotFound, searchSecret.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, searchNone.StatusCode);
        Assert.Equal(
            (await searchNone.Content.ReadAsStringAsync(ct)).Split("trace_id")[0].Replace("nothing-here", "X", StringComparison.Ordinal),
            (await searchSecret.Content.ReadAsStringAsync(ct)).Split("trace_id")[0].Replace("secret", "X", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/collections/secret", ct)).StatusCode);

        // Path spellings of the other collection are refused the same way.
        foreach (string spelled in new[] { "secret%2F..%2Fsecret", "..%2Fsecret", "SECRET", "secret%20", "secret.", "%73ecret", "secret%2F" })
        {
            var response = await client.PostAsJsonAsync($"/api/collections/{spelled}/search", new { query = "launch code" }, ct);
            Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest, $"{spelled}: {response.StatusCode}");
            Assert.DoesNotContain("vault", await response.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        }

        // The list holds only its collection.
        using var list = JsonDocument.Parse(await client.GetStringAsync("/api/collections", ct));
        Assert.Equal(["public"], list.RootElement.GetProperty("collections").EnumerateArray().Select(c => c.GetProperty("name").GetString()));

        // A reader or writer cannot create or delete collections or manage keys.
        foreach (string key in new[] { reader, writer })
        {
            using var other = this._server.ClientWithKey(key);
            Assert.Equal(HttpStatusCode.Forbidden, (await other.PutAsync("/api/collections/public", null, ct)).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await other.DeleteAsync("/api/collections/public", ct)).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await other.DeleteAsync("/api/collections/secret", ct)).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await other.GetAsync("/api/keys", ct)).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await other.PostAsJsonAsync("/api/keys", new { name = "mine", collections = new[] { "*" }, role = "admin" }, ct)).StatusCode);
        }

        Assert.NotNull(await this._server.Collections.OpenAsync("secret", ct));
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/collections/public/search", new { query = "opening hours" }, ct)).StatusCode);
    }

    [Fact]
    public async Task EveryCollectionEndpointRefusesAnotherCollectionsKeyNoKeyAndARevokedKey()
    {
        var ct = TestContext.Current.CancellationToken;
        await this._server.IndexAsync("docs", ("a.md", "The vault code is 4711."));
        string reader = this._server.CreateKey("docs-reader", ApiKeyRole.Reader, "docs");
        string otherReader = this._server.CreateKey("other-reader", ApiKeyRole.Reader, "other");
        string otherWriter = this._server.CreateKey("other-writer", ApiKeyRole.Writer, "other");
        string revoked = this._server.CreateKey("revoked", ApiKeyRole.Admin, "*");
        Assert.True(this._server.Keys.Revoke("revoked"));
        var endpoints = new (string Name, Func<HttpClient, Task<HttpResponseMessage>> Call, HttpStatusCode Reader)[]
        {
            ("get", c => c.GetAsync("/api/collections/docs", ct), HttpStatusCode.OK),
            ("search", c => c.PostAsJsonAsync("/api/collections/docs/search", new { query = "vault code" }, ct), HttpStatusCode.OK),
            ("ask", c => c.PostAsJsonAsync("/api/collections/docs/ask", new { question = "What is the vault code?" }, ct), HttpStatusCode.NotImplemented),
            ("create", c => c.PutAsync("/api/collections/docs", null, ct), HttpStatusCode.Forbidden),
            ("delete", c => c.DeleteAsync("/api/collections/docs", ct), HttpStatusCode.Forbidden),
        };
        foreach (var (name, call, readerStatus) in endpoints)
        {
            foreach (string other in new[] { otherReader, otherWriter })
            {
                using var client = this._server.ClientWithKey(other);
                using var response = await call(client);
                Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{name} with another collection's key: {response.StatusCode}");
                Assert.DoesNotContain("vault code", await response.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
            }

            foreach (string? unknown in new[] { null, revoked })
            {
                using var client = this._server.ClientWithKey(unknown);
                using var response = await call(client);
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{name} with {(unknown is null ? "no key" : "a revoked key")}: {response.StatusCode}");
            }

            using (var client = this._server.ClientWithKey(reader))
            {
                using var response = await call(client);
                Assert.True(response.StatusCode == readerStatus, $"{name} with the collection's reader: {response.StatusCode}");
            }
        }

        Assert.Contains("docs", await this._server.Collections.ListAsync(ct));
    }

    [Fact]
    public async Task NoKeyAWrongKeyAndARevokedKeyAreRefusedWith401ProblemDetails()
    {
        await this._server.IndexAsync("docs", ("a.md", "Some text."));
        string key = this._server.CreateKey("admin", ApiKeyRole.Admin, "*");
        var ct = TestContext.Current.CancellationToken;
        using (var good = this._server.ClientWithKey(key))
        {
            Assert.Equal(HttpStatusCode.OK, (await good.GetAsync("/api/collections/docs", ct)).StatusCode);
        }

        Assert.True(this._server.Keys.Revoke("admin"));
        this._server.CreateKey("other", ApiKeyRole.Admin, "*");
        foreach (string? attempt in new[] { null, key, key + "x", "t5rag_" + new string('A', 43), "" })
        {
            using var client = this._server.ClientWithKey(attempt);
            var response = await client.GetAsync("/api/collections/docs", ct);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            Assert.Equal(401, problem.RootElement.GetProperty("status").GetInt32());
        }

        using var basic = this._server.CreateClient();
        basic.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("a:b")));
        Assert.Equal(HttpStatusCode.Unauthorized, (await basic.GetAsync("/api/collections", ct)).StatusCode);
    }

    [Fact]
    public async Task BadRequestsAreProblemsThatNameTheFieldAndTheServerGoesOn()
    {
        await this._server.IndexAsync("docs", ("a.md", "Some text about vectors."));
        using var client = this._server.ClientWithKey(null);
        var ct = TestContext.Current.CancellationToken;
        (string Body, string Field)[] cases =
        [
            ("{\"query\": \"x\", \"top\": \"three\"}", "$.top"),
            ("{\"query\": \"x\", \"topk\": 3}", "$.topk"),
            ("{\"query\": \"x\", \"mode\": \"fuzzy\"}", "$.mode"),
            ("{\"query\": ", "$.query"),
            ("{\"query\": \"  \"}", "query"),
            ("{\"query\": \"x\", \"top\": 0}", "top"),
            ("{\"query\": \"x\", \"filters\": {\"tags\": {\"team\": 3}}}", "$.filters.tags.team"),
            ("{\"query\": \"x\", \"dense_weight\": 2}", "dense_weight"),
        ];
        foreach (var (body, field) in cases)
        {
            var response = await client.PostAsync("/api/collections/docs/search", new StringContent(body, Encoding.UTF8, "application/json"), ct);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            Assert.Equal(field, problem.RootElement.GetProperty("field").GetString());
            Assert.False(string.IsNullOrWhiteSpace(problem.RootElement.GetProperty("detail").GetString()));
        }

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await client.PostAsync("/api/collections/docs/search", new StringContent("query=x", Encoding.UTF8, "text/plain"), ct)).StatusCode);
        var huge = await client.PostAsync("/api/collections/docs/search", new StringContent("{\"query\": \"" + new string('a', 2 << 20) + "\"}", Encoding.UTF8, "application/json"), ct);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/collections/docs/search", new { query = "vectors" }, ct)).StatusCode);
    }

    [Fact]
    public async Task AnAdminCreatesListsAndDeletesCollectionsAndKeys()
    {
        string admin = this._server.CreateKey("root", ApiKeyRole.Admin, "*");
        using var client = this._server.ClientWithKey(admin);
        var ct = TestContext.Current.CancellationToken;
        Assert.Equal(HttpStatusCode.Created, (await client.PutAsync("/api/collections/team-a", null, ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PutAsync("/api/collections/team-a", null, ct)).StatusCode);
        foreach (string bad in new[] { ".hidden", "docs%0A", "docs.", "a..b" })
        {
            Assert.True(HttpStatusCode.BadRequest == (await client.PutAsync($"/api/collections/{bad}", null, ct)).StatusCode, bad);
        }

        Assert.Contains("team-a", await this._server.Collections.ListAsync(ct));

        var created = await client.PostAsJsonAsync("/api/keys", new { name = "team-a-reader", collections = new[] { "team-a" }, role = "reader" }, ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var createdJson = JsonDocument.Parse(await created.Content.ReadAsStringAsync(ct));
        string newKey = createdJson.RootElement.GetProperty("key").GetString()!;
        using (var reader = this._server.ClientWithKey(newKey))
        {
            Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/collections/team-a", ct)).StatusCode);
        }

        string listed = await client.GetStringAsync("/api/keys", ct);
        Assert.Contains("team-a-reader", listed, StringComparison.Ordinal);
        Assert.DoesNotContain(newKey, listed, StringComparison.Ordinal);
        var narrowAdmin = await client.PostAsJsonAsync("/api/keys", new { name = "team-a-admin", collections = new[] { "team-a" }, role = "admin" }, ct);
        Assert.Equal(HttpStatusCode.BadRequest, narrowAdmin.StatusCode);
        Assert.Contains("every collection", await narrowAdmin.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync("/api/keys/%20", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("/api/keys/team-a-reader", ct)).StatusCode);
        using (var revoked = this._server.ClientWithKey(newKey))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await revoked.GetAsync("/api/collections/team-a", ct)).StatusCode);
        }

        // A revoked key's name can be given to a new key.
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/keys", new { name = "team-a-reader", collections = new[] { "team-a" } }, ct)).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("/api/collections/team-a", ct)).StatusCode);
        Assert.DoesNotContain("team-a", await this._server.Collections.ListAsync(ct));
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync("/api/collections/team-a", ct)).StatusCode);
    }

    [Fact]
    public async Task WithoutKeysOnlyADirectLoopbackCallerIsLetInNotOneAProxyForwarded()
    {
        await this._server.IndexAsync("docs", ("a.md", "Some text."));
        var ct = TestContext.Current.CancellationToken;
        using var direct = this._server.ClientWithKey(null);
        Assert.Equal(HttpStatusCode.OK, (await direct.GetAsync("/api/collections/docs", ct)).StatusCode);
        // A proxy's forwarding, a browser page's cross-site fetch, and DNS rebinding (a name that is not loopback's).
        foreach (var (header, value) in new[] { ("X-Forwarded-For", "203.0.113.9"), ("Forwarded", "for=203.0.113.9"), ("Origin", "https://evil.example"), ("Sec-Fetch-Site", "cross-site"), ("Host", "rebind.evil.example") })
        {
            using var proxied = this._server.ClientWithKey(null);
            if (header == "Host")
            {
                proxied.DefaultRequestHeaders.Host = value;
            }
            else
            {
                proxied.DefaultRequestHeaders.Add(header, value);
            }

            Assert.True(HttpStatusCode.Unauthorized == (await proxied.GetAsync("/api/collections/docs", ct)).StatusCode, header);
        }

        // What a page can send without asking: a form post, or text/plain that mentions json.
        using var page = this._server.ClientWithKey(null);
        var simple = new ByteArrayContent(Encoding.UTF8.GetBytes("{\"name\": \"x\", \"collections\": [\"*\"], \"role\": \"admin\"}"));
        Assert.True(simple.Headers.TryAddWithoutValidation("Content-Type", "text/plain; x=json"));
        var keyRequest = await page.PostAsync("/api/keys", simple, ct);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, keyRequest.StatusCode);
        Assert.False(this._server.Keys.AnyActive());
    }

    [Fact]
    public async Task AReadReplicaSearchesButRefusesWritesWith503()
    {
        var ct = TestContext.Current.CancellationToken;
        using var replica = new KnowledgeBaseServerFactory(options => options.Ingest = false, store: this._server.Options.Store);
        await this._server.IndexAsync("docs", ("a.md", "Replicas answer searches."));
        using var client = replica.ClientWithKey(null);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/collections/docs/search", new { query = "replicas" }, ct)).StatusCode);
        foreach (var response in new[] { await client.PutAsync("/api/collections/other", null, ct), await client.DeleteAsync("/api/collections/docs", ct) })
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.True(response.Headers.Contains("Retry-After"));
            Assert.Contains("--no-ingest", await response.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        }

        Assert.Contains("docs", await this._server.Collections.ListAsync(ct));
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesTheApiWithoutAKey()
    {
        this._server.CreateKey("k", ApiKeyRole.Reader, "*");
        using var client = this._server.ClientWithKey(null);
        using var document = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json", TestContext.Current.CancellationToken));
        var paths = document.RootElement.GetProperty("paths");
        foreach (string path in new[] { "/api/collections", "/api/collections/{name}", "/api/collections/{name}/search", "/api/collections/{name}/ask", "/healthz", "/readyz" })
        {
            Assert.True(paths.TryGetProperty(path, out _), path);
        }

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/scalar", TestContext.Current.CancellationToken)).StatusCode);
    }
}
