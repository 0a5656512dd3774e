using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using T5Gemma2.Rag.Encoder;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>
/// The spans of one ask, heard by a plain <see cref="ActivityListener"/> (what any tracer hears): one trace from the
/// caller's traceparent, retrieve → pack → generate under ask under the request, encode → decode under generate;
/// and, with OTEL_EXPORTER_OTLP_ENDPOINT set, the same spans and the metrics sent to a collector.
/// </summary>
public sealed class ServerTraceTests : IDisposable
{
    private readonly KnowledgeBaseServerFactory _server;
    private readonly string _generator;

    public ServerTraceTests(SharedTinyT5Gemma2 tiny)
    {
        this._generator = tiny.ConvertedDirectory;
        this._server = new KnowledgeBaseServerFactory(options => options.GeneratorModelDirectory = tiny.ConvertedDirectory);
    }

    public void Dispose() => this._server.Dispose();

    [Fact]
    public async Task AnAskIsOneTraceRetrieveAndPackThenEncodeAndDecodeUnderTheRequest()
    {
        var ct = TestContext.Current.CancellationToken;
        await this._server.IndexAsync("docs", ("attention.md", "The decoder's merged attention attends to its own tokens and to the encoder outputs in one softmax."));

        // Other tests run beside this one: only the spans of the trace this request starts count.
        var trace = ActivityTraceId.CreateRandom();
        var caller = ActivitySpanId.CreateRandom();
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is T5RagTelemetry.Name or "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.TraceId == trace)
                {
                    spans.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        using var client = this._server.ClientWithKey(null);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/collections/docs/ask") { Content = JsonContent.Create(new { question = "What does the decoder attend to?", top = 1, max_new_tokens = 6 }) };
        request.Headers.Add("traceparent", $"00-{trace}-{caller}-01");
        using var response = await client.SendAsync(request, ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // The request's own span stops as its pipeline ends, which can be just after the client has the response.
        var clock = Stopwatch.StartNew();
        while (!spans.Any(s => s.Kind == ActivityKind.Server) && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20, ct);
        }

        var all = spans.ToList();
        var server = Assert.Single(all, s => s.Kind == ActivityKind.Server);
        Assert.Equal(caller, server.ParentSpanId);
        Activity Only(string name) => Assert.Single(all, s => s.Source.Name == T5RagTelemetry.Name && s.OperationName == name);
        var (ask, retrieve, embed, pack, generate, encode, decode) = (Only("ask"), Only("retrieve"), Only("embed"), Only("pack"), Only("generate"), Only("encode"), Only("decode"));

        Assert.Equal(server.SpanId, ask.ParentSpanId);
        Assert.All([retrieve, pack, generate], s => Assert.Equal(ask.SpanId, s.ParentSpanId));
        Assert.Equal(retrieve.SpanId, embed.ParentSpanId);
        Assert.All([encode, decode], s => Assert.Equal(generate.SpanId, s.ParentSpanId));
        Assert.Equal("docs", ask.GetTagItem(T5RagTelemetry.CollectionTag));
        Assert.Equal(1, pack.GetTagItem("t5rag.pack.passages"));

        // In order, each inside its parent: the request ⊇ ask ⊇ retrieve < pack < generate ⊇ encode < decode.
        AssertInOrder(ask.StartTimeUtc >= server.StartTimeUtc, End(ask) <= End(server), "ask inside the request");
        AssertInOrder(retrieve.StartTimeUtc >= ask.StartTimeUtc, End(retrieve) <= pack.StartTimeUtc, "retrieve, then pack");
        AssertInOrder(End(pack) <= generate.StartTimeUtc, End(generate) <= End(ask), "pack, then generate, inside ask");
        AssertInOrder(encode.StartTimeUtc >= generate.StartTimeUtc, End(encode) <= decode.StartTimeUtc, "encode, then decode");
        AssertInOrder(End(decode) <= End(generate), true, "decode ends inside generate");
        Assert.Contains(generate.Events, e => e.Name == "first_token");
    }

    [Fact]
    public async Task WithAnOtlpEndpointSpansAndMetricsGoToTheCollector()
    {
        var ct = TestContext.Current.CancellationToken;
        var received = new ConcurrentQueue<(string Path, byte[] Body)>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        await using var collector = builder.Build();
        collector.MapPost("/v1/{signal}", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            received.Enqueue((context.Request.Path.Value!, body.ToArray()));
            return Results.Ok();
        });
        await collector.StartAsync(ct);

        using var server = new KnowledgeBaseServerFactory(options => options.GeneratorModelDirectory = this._generator)
        {
            Settings = new Dictionary<string, string>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Urls.Single(),
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            },
        };
        await server.IndexAsync("docs", ("store.md", "The embedded store keeps passages in SQLite with an HNSW graph beside it."));
        using var client = server.ClientWithKey(null);
        Assert.NotEmpty(await Uploads.SearchAsync(client, "docs", new { query = "Where are passages kept?" }));

        // The request's span ends as its pipeline does, which can be just after the client has the response: flush until it went.
        var tracer = server.Services.GetRequiredService<TracerProvider>();
        var clock = Stopwatch.StartNew();
        string traces;
        while (true)
        {
            Assert.True(tracer.ForceFlush(10_000));
            traces = Text(received.Where(r => r.Path == "/v1/traces"));
            if (traces.Contains("/api/collections/{name}/search", StringComparison.Ordinal) || clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                break;
            }

            await Task.Delay(20, ct);
        }

        // Not asserted: the Prometheus reader beside the OTLP one has nothing to flush and says false.
        server.Services.GetRequiredService<MeterProvider>().ForceFlush(10_000);
        Assert.All(["retrieve", "embed", "t5rag.collection", "/api/collections/{name}/search"], name => Assert.Contains(name, traces, StringComparison.Ordinal));
        string metrics = Text(received.Where(r => r.Path == "/v1/metrics"));
        Assert.All(["t5rag.embedding.tokens", "t5rag.ingest.passages", "http.server.request.duration"], name => Assert.Contains(name, metrics, StringComparison.Ordinal));
    }

    private static DateTime End(Activity activity) => activity.StartTimeUtc + activity.Duration;

    private static void AssertInOrder(bool starts, bool ends, string what) => Assert.True(starts && ends, $"expected {what}");

    /// <summary>The bodies as text: OTLP's protobuf holds its names and string values as UTF-8 bytes.</summary>
    private static string Text(IEnumerable<(string Path, byte[] Body)> requests) =>
        string.Join("\n", requests.Select(r => Encoding.UTF8.GetString(r.Body)));
}
