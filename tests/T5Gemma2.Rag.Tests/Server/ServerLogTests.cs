using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Logging;
using T5Gemma2.Rag.Server.Security;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>
/// What the service logs at every level, every category, through an upload, a search and an ask: one request line
/// per call with its route, status, key name and collection, and never a document's text, a question or a key.
/// </summary>
public sealed class ServerLogTests : IDisposable
{
    // Words no tokenizer, model, path or id makes: any occurrence in a log came from the document or the question.
    private const string DocumentSecret = "zorblaxquintessa";
    private const string QuestionSecret = "vexmorthalund";

    private readonly CollectingLoggerProvider _logs = new();
    private readonly KnowledgeBaseServerFactory _server;

    public ServerLogTests(SharedTinyT5Gemma2 tiny)
    {
        this._server = new KnowledgeBaseServerFactory(options => options.GeneratorModelDirectory = tiny.ConvertedDirectory) { Logs = this._logs };
    }

    public void Dispose() => this._server.Dispose();

    [Fact]
    public async Task RequestsAreLoggedWithTheirKeysNameAndCollectionButNoTextQuestionOrKey()
    {
        var ct = TestContext.Current.CancellationToken;
        string key = this._server.CreateKey("ingest-bot", ApiKeyRole.Writer, "docs");
        using var client = this._server.ClientWithKey(key);
        await Uploads.IndexAsync(client, "docs", [Uploads.Text("notes.md", $"# Notes\n\nThe {DocumentSecret} protocol checks every request twice before it answers.")]);
        Assert.NotEmpty(await Uploads.SearchAsync(client, "docs", new { query = $"How does {QuestionSecret} check requests?" }));
        using var asked = await client.PostAsJsonAsync("/api/collections/docs/ask", new { question = $"What does {QuestionSecret} check?", max_new_tokens = 6 }, ct);
        Assert.Equal(HttpStatusCode.OK, asked.StatusCode);
        using var refused = await this._server.ClientWithKey(key + "x").PostAsJsonAsync("/api/collections/docs/search", new { query = QuestionSecret }, ct);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        // The request lines: each call's route template, status, the key's name and the collection. A line is written
        // as the request's pipeline ends, which can be just after its client has the response: wait for the last one.
        var clock = Stopwatch.StartNew();
        while (!this._logs.Records.Any(r => r.EventId.Id == 6000 && (int?)r["StatusCode"] == 401) && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20, ct);
        }

        var requests = this._logs.Records.Where(r => r.EventId.Id == 6000).ToList();
        var search = Assert.Single(requests, r => (string?)r["Route"] == "/api/collections/{name}/search" && (int?)r["StatusCode"] == 200);
        Assert.Equal(("POST", "ingest-bot", "docs"), ((string?)search["Method"], (string?)search["KeyName"], (string?)search["Collection"]));
        Assert.False(string.IsNullOrEmpty((string?)search["RequestId"]));
        Assert.Equal(LogLevel.Information, search.Level);
        Assert.Contains(requests, r => (string?)r["Route"] == "/api/collections/{name}/documents" && (int?)r["StatusCode"] == 202 && (string?)r["KeyName"] == "ingest-bot");
        Assert.Contains(requests, r => (string?)r["Route"] == "/api/collections/{name}/ask" && (int?)r["StatusCode"] == 200 && (string?)r["Collection"] == "docs");
        Assert.Contains(requests, r => (string?)r["Route"] == "/api/jobs/{id}" && (string?)r["KeyName"] == "ingest-bot");
        Assert.Contains(requests, r => (string?)r["Route"] == "/api/collections/{name}/search" && (int?)r["StatusCode"] == 401 && r["KeyName"] is null);
        Assert.Contains(this._logs.Records, r => r.Category.Contains("Ingest", StringComparison.Ordinal)); // the worker and the pipeline were heard too

        // Nothing anywhere — message, state, exception, scope — holds the document's text, the question or the key.
        var texts = this._logs.Records.SelectMany(r => r.Texts()).Concat(this._logs.Scopes).ToList();
        Assert.True(texts.Count > 100, $"only {texts.Count} texts logged: the capture heard little");
        foreach (string secret in new[] { DocumentSecret, QuestionSecret, key, key[..16] })
        {
            Assert.DoesNotContain(texts, t => t.Contains(secret, StringComparison.OrdinalIgnoreCase));
        }
    }
}
