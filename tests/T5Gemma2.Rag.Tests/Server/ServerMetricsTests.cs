using System.Net.Http.Json;
using Microsoft.ML.Tokenizers;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>
/// Instruments are process-wide and every server in the process records on them, so the tests that count exactly
/// run alone, after the tests that run in parallel.
/// </summary>
[CollectionDefinition(nameof(MetricsCollection), DisableParallelization = true)]
public sealed class MetricsCollection;

/// <summary>
/// <c>/metrics</c> scraped and parsed after an upload, searches and asks on the real MiniLM model and the tiny random
/// T5Gemma 2 generator: each count checked against what the test did or can count itself.
/// </summary>
[Collection(nameof(MetricsCollection))]
public sealed class ServerMetricsTests : IDisposable
{
    private const string Query = "How does merged attention work?";
    private const string Question = "What does the decoder attend to?";

    private readonly KnowledgeBaseServerFactory _server;

    public ServerMetricsTests(SharedTinyT5Gemma2 tiny)
    {
        this._server = new KnowledgeBaseServerFactory(options => options.GeneratorModelDirectory = tiny.ConvertedDirectory);
    }

    public void Dispose() => this._server.Dispose();

    [Fact]
    public async Task AScrapeCountsTheRequestsTokensPassagesQueueAndAnswers()
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = this._server.ClientWithKey(null);
        await Uploads.IndexAsync(client, "docs", [
            Uploads.Text("attention.md", "# Merged attention\n\nThe decoder's merged attention attends to its own tokens and to the encoder outputs in one softmax."),
            Uploads.Text("store.md", "The embedded store keeps passages in SQLite with an HNSW graph beside it.")]);
        var info = await (await this._server.Collections.OpenAsync("docs", ct))!.Collection.GetInfoAsync(ct);

        var indexed = await MetricsScrapes.ScrapeAsync(client);
        Assert.Equal("counter", indexed.Types["t5rag_ingest_passages_total"]);
        Assert.True(info.Passages > 0);
        Assert.Equal(info.Passages, indexed.Sum("t5rag_ingest_passages_total", ("t5rag_collection", "docs")));
        double tokensIndexed = indexed.Sum("t5rag_embedding_tokens_total");
        Assert.True(tokensIndexed > 0, "the upload's passages were embedded");

        // The job is done: nothing queued, running or staging, and the gauge says so rather than saying nothing.
        Assert.Equal("gauge", indexed.Types["t5rag_ingest_queue_depth"]);
        Assert.Equal(["queued", "running", "staging"], indexed.Matching("t5rag_ingest_queue_depth").Select(s => s.Labels["t5rag_job_state"]).Order(StringComparer.Ordinal));
        Assert.All(indexed.Matching("t5rag_ingest_queue_depth"), s => Assert.Equal(0, s.Value));

        // Three searches: three more requests on the search route, and the query's tokens three times.
        double searchesBefore = indexed.Requests(MetricsScrapes.SearchRoute, "POST", 200);
        for (int i = 0; i < 3; i++)
        {
            Assert.NotEmpty(await Uploads.SearchAsync(client, "docs", new { query = Query, top = 2 }));
        }

        var searched = await MetricsScrapes.ScrapeUntilAsync(client, s => s.Requests(MetricsScrapes.SearchRoute, "POST", 200) >= searchesBefore + 3);
        Assert.Equal(searchesBefore + 3, searched.Requests(MetricsScrapes.SearchRoute, "POST", 200));
        AssertWellFormed(searched.HistogramOf("http_server_request_duration_seconds", ("http_route", MetricsScrapes.SearchRoute), ("http_request_method", "POST"), ("http_response_status_code", "200")));
        Assert.Equal(3 * ModelInputTokens(Query), searched.Sum("t5rag_embedding_tokens_total") - tokensIndexed);

        // Two streamed asks: each embeds the question once; the time to first token is recorded for each answer that had text.
        int withText = 0;
        for (int i = 0; i < 2; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/collections/docs/ask") { Content = JsonContent.Create(new { question = Question, top = 2, max_new_tokens = 8, stream = true }) };
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            string events = await response.Content.ReadAsStringAsync(ct);
            Assert.Contains("event: done", events, StringComparison.Ordinal);
            withText += events.Contains("event: delta", StringComparison.Ordinal) ? 1 : 0;
        }

        Assert.True(withText > 0, "the tiny model's answers had no text, so the time to first token was never recorded");
        var asked = await MetricsScrapes.ScrapeUntilAsync(client, s => s.Requests("/api/collections/{name}/ask", "POST", 200) >= 2);
        var firstToken = asked.HistogramOf("t5rag_answer_time_to_first_token_seconds", ("t5rag_collection", "docs"));
        AssertWellFormed(firstToken);
        Assert.Equal(withText, firstToken.Count);
        var duration = asked.HistogramOf("t5rag_answer_duration_seconds", ("t5rag_collection", "docs"));
        AssertWellFormed(duration);
        Assert.Equal(2, duration.Count);
        Assert.True(duration.Sum >= firstToken.Sum, $"answers took {duration.Sum} s in all, less than their {firstToken.Sum} s to the first token");
        Assert.Equal(2 * ModelInputTokens(Question), asked.Sum("t5rag_embedding_tokens_total") - searched.Sum("t5rag_embedding_tokens_total"));
        Assert.Equal(2, asked.Requests("/api/collections/{name}/ask", "POST", 200));
    }

    /// <summary>Cumulative buckets never fall, the +Inf bucket holds every observation, and there are some.</summary>
    private static void AssertWellFormed(PrometheusText.Histogram histogram)
    {
        Assert.True(histogram.Buckets.Count > 2, "a histogram with no finite buckets");
        Assert.Equal(double.PositiveInfinity, histogram.Buckets[^1].Bound);
        Assert.All(histogram.Buckets.Zip(histogram.Buckets.Skip(1)), pair => Assert.True(pair.First.Count <= pair.Second.Count, $"bucket le={pair.Second.Bound} holds {pair.Second.Count}, fewer than le={pair.First.Bound}'s {pair.First.Count}"));
        Assert.Equal(histogram.Count, histogram.Buckets[^1].Count);
        Assert.True(histogram.Count > 0 && histogram.Sum > 0);
    }

    /// <summary>What MiniLM reads for a text, counted by the WordPiece tokenizer of its own vocabulary: the word pieces, [CLS] and [SEP].</summary>
    private static int ModelInputTokens(string text)
    {
        var tokenizer = BertTokenizer.Create(Path.Combine(TestAssets.MiniLmDirectory, "vocab.txt"), new BertOptions { LowerCaseBeforeTokenization = true });
        return tokenizer.EncodeToIds(text, addSpecialTokens: true).Count;
    }
}
