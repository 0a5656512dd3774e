using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>
/// A chat model's HTTP server on a free loopback port that answers every request with <see cref="Reply"/>, streamed
/// word by word, in OpenAI's protocol (<c>POST /v1/chat/completions</c>, server-sent chunks) and Ollama's
/// (<c>POST /api/chat</c>, JSON lines), and keeps each request's body and Authorization header. The chat model is not
/// our component; what the test proves is what our answerer sends such a server and what it makes of the reply.
/// </summary>
internal sealed class ScriptedChatServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<(string? Authorization, JsonElement Body)> _requests = [];

    private ScriptedChatServer(WebApplication app)
    {
        this._app = app;
    }

    public string Reply { get; set; } = "The keys are rotated every 90 days [1].";

    /// <summary>When set, every request is answered with this status and an error body instead.</summary>
    public int? FailWith { get; set; }

    public Uri Address { get; private set; } = null!;

    public IReadOnlyList<(string? Authorization, JsonElement Body)> Requests
    {
        get
        {
            lock (this._requests)
            {
                return [.. this._requests];
            }
        }
    }

    public static async Task<ScriptedChatServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new ScriptedChatServer(app);
        app.MapPost("/v1/chat/completions", server.OpenAiAsync);
        app.MapPost("/api/chat", server.OllamaAsync);
        await app.StartAsync(TestContext.Current.CancellationToken);
        server.Address = new Uri(app.Urls.First());
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await this._app.StopAsync(CancellationToken.None);
        await this._app.DisposeAsync();
    }

    private async Task OpenAiAsync(HttpContext context)
    {
        var body = await this.RecordAsync(context);
        if (this.FailWith is { } status)
        {
            context.Response.StatusCode = status;
            await context.Response.WriteAsJsonAsync(new { error = new { message = "the scripted model is down", type = "server_error" } });
            return;
        }

        string model = body.GetProperty("model").GetString()!;
        context.Response.ContentType = "text/event-stream";
        foreach (string word in Words(this.Reply))
        {
            await WriteLineAsync(context, "data: " + JsonSerializer.Serialize(new { id = "c1", @object = "chat.completion.chunk", created = 1, model, choices = new[] { new { index = 0, delta = new { content = word }, finish_reason = (string?)null } } }) + "\n");
        }

        await WriteLineAsync(context, "data: " + JsonSerializer.Serialize(new { id = "c1", @object = "chat.completion.chunk", created = 1, model, choices = new[] { new { index = 0, delta = new { }, finish_reason = "stop" } } }) + "\n");
        await WriteLineAsync(context, "data: [DONE]\n");
    }

    private async Task OllamaAsync(HttpContext context)
    {
        var body = await this.RecordAsync(context);
        if (this.FailWith is { } status)
        {
            context.Response.StatusCode = status;
            await context.Response.WriteAsJsonAsync(new { error = "the scripted model is down" });
            return;
        }

        string model = body.GetProperty("model").GetString()!;
        context.Response.ContentType = "application/x-ndjson";
        foreach (string word in Words(this.Reply))
        {
            await WriteLineAsync(context, JsonSerializer.Serialize(new { model, created_at = "2026-12-07T00:00:00Z", message = new { role = "assistant", content = word }, done = false }));
        }

        await WriteLineAsync(context, JsonSerializer.Serialize(new { model, created_at = "2026-12-07T00:00:00Z", message = new { role = "assistant", content = string.Empty }, done = true, done_reason = "stop", prompt_eval_count = 10, eval_count = 3 }));
    }

    private async Task<JsonElement> RecordAsync(HttpContext context)
    {
        using var body = await JsonDocument.ParseAsync(context.Request.Body);
        var recorded = body.RootElement.Clone();
        lock (this._requests)
        {
            this._requests.Add((context.Request.Headers.Authorization.FirstOrDefault(), recorded));
        }

        return recorded;
    }

    // The words with the space before each kept, so the deltas join back into the reply.
    private static IEnumerable<string> Words(string text) => text.Split(' ').Select((word, i) => i == 0 ? word : " " + word);

    private static async Task WriteLineAsync(HttpContext context, string line)
    {
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"));
        await context.Response.Body.FlushAsync();
    }
}
