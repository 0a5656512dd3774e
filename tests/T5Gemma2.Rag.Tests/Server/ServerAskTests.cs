using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using T5Gemma2.Rag.Answering;
using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>Ask over HTTP with the tiny random T5Gemma 2 embedding and answering: JSON, server-sent events, refusals.</summary>
public sealed class ServerAskTests : IDisposable
{
    private readonly KnowledgeBaseServerFactory _server;

    public ServerAskTests(SharedTinyT5Gemma2 tiny)
    {
        this._server = new KnowledgeBaseServerFactory(options =>
        {
            options.EmbeddingModelDirectory = tiny.ConvertedDirectory;
            options.GeneratorModelDirectory = tiny.ConvertedDirectory;
        });
    }

    public void Dispose() => this._server.Dispose();

    [Fact]
    public async Task AskAnswersAsTheAnswererDoesWithEveryPassageItWasGiven()
    {
        var ct = TestContext.Current.CancellationToken;
        var services = await this.IndexAsync();
        using var client = this._server.ClientWithKey(null);
        using var response = await client.PostAsJsonAsync("/api/collections/docs/ask", new { question = "What does the decoder attend to?", top = 2, max_new_tokens = 12 }, ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));

        var expected = await services.Answerer!.AskAsync("What does the decoder attend to?", new AskOptions { Retrieval = Retrieval.RetrievalOptions.Default with { Top = 2 }, Generation = new GenerationOptions { MaxNewTokens = 12 } }, ct);
        Assert.Equal(expected.Text, json.RootElement.GetProperty("answer").GetString());
        var citations = json.RootElement.GetProperty("citations").EnumerateArray().ToList();
        Assert.Equal(expected.Citations.Select(c => (c.Number, c.DocumentId, c.Cited)), citations.Select(c => (c.GetProperty("number").GetInt32(), c.GetProperty("document_id").GetString()!, c.GetProperty("cited").GetBoolean())));
        Assert.All(citations, c => Assert.False(string.IsNullOrEmpty(c.GetProperty("snippet").GetString())));
        Assert.True(json.RootElement.GetProperty("timings").GetProperty("total_ms").GetDouble() > 0);
    }

    [Fact]
    public async Task AStreamedAnswerSendsTheContextTheDeltasTheCitationsThenDone()
    {
        var ct = TestContext.Current.CancellationToken;
        await this.IndexAsync();
        using var client = this._server.ClientWithKey(null);
        var body = new { question = "What does the decoder attend to?", top = 2, max_new_tokens = 12 };
        using var plain = JsonDocument.Parse(await (await client.PostAsJsonAsync("/api/collections/docs/ask", body, ct)).Content.ReadAsStringAsync(ct));

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/collections/docs/ask") { Content = JsonContent.Create(body) };
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var streamed = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        Assert.Equal("text/event-stream", streamed.Content.Headers.ContentType?.MediaType);
        var events = ServerSentEvents.Parse(await streamed.Content.ReadAsStringAsync(ct));

        Assert.Equal("context", events[0].Type);
        Assert.Equal(["citations", "done"], events.TakeLast(2).Select(e => e.Type));
        Assert.All(events.Skip(1).SkipLast(2), e => Assert.Equal("delta", e.Type));
        string joined = string.Concat(events.Where(e => e.Type == "delta").Select(e => e.Data.GetProperty("text").GetString()));
        Assert.Equal(plain.RootElement.GetProperty("answer").GetString(), joined.Trim());
        Assert.Equal(
            plain.RootElement.GetProperty("citations").GetArrayLength(),
            events[^2].Data.GetProperty("citations").GetArrayLength());
        Assert.Equal(events[0].Data.GetProperty("passages").GetArrayLength(), events[^2].Data.GetProperty("citations").GetArrayLength());
    }

    [Fact]
    public async Task AnAskPastTheServersTimeLimitReturnsWhatItHasMarkedTimedOut()
    {
        var ct = TestContext.Current.CancellationToken;
        using var hurried = new KnowledgeBaseServerFactory(options =>
        {
            options.EmbeddingModelDirectory = this._server.Options.EmbeddingModelDirectory;
            options.GeneratorModelDirectory = this._server.Options.GeneratorModelDirectory;
            options.AskTimeout = TimeSpan.FromMilliseconds(1);
        });
        await hurried.IndexAsync("docs", ("a.md", "The decoder attends to the encoder outputs."));
        using var client = hurried.ClientWithKey(null);
        using var response = await client.PostAsJsonAsync("/api/collections/docs/ask", new { question = "What does the decoder attend to?", max_new_tokens = 2000 }, ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        Assert.True(json.RootElement.GetProperty("timed_out").GetBoolean());
        Assert.True(json.RootElement.GetProperty("timings").GetProperty("total_ms").GetDouble() < 60_000);
    }

    [Fact]
    public async Task AskRefusalsAreProblems()
    {
        var ct = TestContext.Current.CancellationToken;
        await this._server.Collections.OpenOrCreateAsync("empty", ct);
        await this.IndexAsync();
        using var client = this._server.ClientWithKey(null);

        var empty = await client.PostAsJsonAsync("/api/collections/empty/ask", new { question = "anything?" }, ct);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, empty.StatusCode);
        Assert.Contains("empty", await empty.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);

        // Also when streaming: the refusal comes before the stream begins.
        var emptyStream = await client.PostAsJsonAsync("/api/collections/empty/ask", new { question = "anything?", stream = true }, ct);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, emptyStream.StatusCode);

        foreach (var (body, field) in new (string, string)[] { ("{\"question\": \"\"}", "question"), ("{\"question\": \"q\", \"max_new_tokens\": 0}", "max_new_tokens"), ("{\"question\": \"q\", \"budget\": 3}", "budget") })
        {
            var response = await client.PostAsync("/api/collections/docs/ask", new StringContent(body, Encoding.UTF8, "application/json"), ct);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            Assert.Equal(field, problem.RootElement.GetProperty("field").GetString());
        }
    }

    [Fact]
    public async Task AServerWithoutAGeneratorSaysSo()
    {
        var ct = TestContext.Current.CancellationToken;
        using var searchOnly = new KnowledgeBaseServerFactory();
        await searchOnly.IndexAsync("docs", ("a", "Some text."));
        using var client = searchOnly.ClientWithKey(null);
        var response = await client.PostAsJsonAsync("/api/collections/docs/ask", new { question = "What?" }, ct);
        Assert.Equal(HttpStatusCode.NotImplemented, response.StatusCode);
        Assert.Contains("--generator", await response.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
    }

    private Task<T5Gemma2.Rag.Server.Collections.CollectionServices> IndexAsync() =>
        this._server.IndexAsync(
            "docs",
            ("attention.md", "The decoder's merged attention attends to its own tokens and to the encoder outputs in one softmax."),
            ("store.md", "The embedded store keeps passages in SQLite with an HNSW graph beside it."),
            ("images.md", "Images enter the encoder through the SigLIP tower and a projector."));
}
