using System.Net;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using T5Gemma2.Rag.Server.Security;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>
/// MCP over streamable HTTP at <c>/mcp</c>, with the official MCP C# client over the in-process server: the tools of
/// <c>t5rag mcp</c> under the API keys, each session held to the collection its route names and its key covers.
/// </summary>
public sealed class McpHttpTests(SharedTinyT5Gemma2 tiny) : IDisposable
{
    private readonly KnowledgeBaseServerFactory _server = new();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => this._server.Dispose();

    [Fact]
    public async Task AReaderListsSearchAndAskAndSearchesItsCollection()
    {
        var services = await this._server.IndexAsync("docs", ("a.md", "The merged attention joins self and cross attention in one softmax."), ("b.md", "Qdrant stores vectors in collections with payloads."));
        await this._server.IndexAsync("secret", ("s.md", "The launch code is in the vault of the merged attention."));
        string reader = this._server.CreateKey("docs-reader", ApiKeyRole.Reader, "docs");

        foreach (string path in new[] { "/mcp/docs", "/mcp" })
        {
            await using var client = await this.ConnectAsync(path, reader);
            Assert.Equal("t5rag", client.ServerInfo?.Name);
            var tools = await client.ListToolsAsync(cancellationToken: Token);
            Assert.Equal(["ask", "search"], tools.Select(t => t.Name).Order(StringComparer.Ordinal));

            var found = await CallAsync(client, "search", new() { ["query"] = "merged attention", ["top"] = 5 });
            var expected = await services.Plugin.SearchAsync("merged attention", 5, cancellationToken: Token);
            Assert.Equal(expected.Passages.Select(p => p.DocumentId), found.GetProperty("passages").EnumerateArray().Select(p => p.GetProperty("documentId").GetString()));
            Assert.Equal("a.md", found.GetProperty("passages")[0].GetProperty("source").GetString());
            Assert.DoesNotContain("vault", found.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AWriterIndexesAndForgetsButIndexFileIsNeverOffered()
    {
        await this._server.IndexAsync("docs", ("a.md", "Some text."));
        string writer = this._server.CreateKey("docs-writer", ApiKeyRole.Writer, "docs");
        await using var client = await this.ConnectAsync("/mcp/docs", writer);

        var tools = await client.ListToolsAsync(cancellationToken: Token);
        Assert.Equal(["ask", "forget_document", "index_text", "search"], tools.Select(t => t.Name).Order(StringComparer.Ordinal));

        var indexed = await CallAsync(client, "index_text", new() { ["text"] = "The ferry to Vellmar Point leaves at seven.", ["documentId"] = "ferry" });
        Assert.Equal("ferry", indexed.GetProperty("documentId").GetString());
        var services = (await this._server.Collections.OpenAsync("docs", Token))!;
        Assert.NotNull(await services.Collection.GetDocumentAsync("ferry", Token));

        var forgotten = await CallAsync(client, "forget_document", new() { ["documentId"] = "ferry" });
        Assert.True(forgotten.GetProperty("removed").GetBoolean());
        Assert.Null(await services.Collection.GetDocumentAsync("ferry", Token));

        // Not listed, and not callable by name either: the server's disk is not a remote caller's.
        var indexFile = await CallRawAsync(client, "index_file", new() { ["path"] = "/etc" });
        Assert.True(indexFile.Refused, indexFile.Text);
        Assert.Null(await services.Collection.GetDocumentAsync("/etc/hostname", Token));
    }

    [Fact]
    public async Task ASessionNeverReachesPastItsKey()
    {
        await this._server.IndexAsync("docs", ("a.md", "Some text."));
        await this._server.IndexAsync("secret", ("s.md", "The launch code is in the vault."));
        string reader = this._server.CreateKey("docs-reader", ApiKeyRole.Reader, "docs");
        string everything = this._server.CreateKey("all-reader", ApiKeyRole.Reader, "*");
        string revoked = this._server.CreateKey("gone", ApiKeyRole.Writer, "docs");
        Assert.True(this._server.Keys.Revoke("gone"));

        // Another collection, a collection that does not exist, spellings of it: not found, the same answer.
        foreach (string path in new[] { "/mcp/secret", "/mcp/nothing", "/mcp/SECRET", "/mcp/..%2Fsecret", "/mcp/%73ecret", "/mcp/docs%2F..%2Fsecret" })
        {
            var refused = await Assert.ThrowsAnyAsync<Exception>(() => this.ConnectAsync(path, reader));
            Assert.Contains("404", Describe(refused), StringComparison.Ordinal);
            Assert.DoesNotContain("vault", Describe(refused), StringComparison.Ordinal);
        }

        // No key, a key that is not one, a revoked key: 401 before anything is served.
        foreach (string? key in new[] { null, "t5rag_not-a-key", revoked })
        {
            var unauthorized = await Assert.ThrowsAnyAsync<Exception>(() => this.ConnectAsync("/mcp/docs", key));
            Assert.Contains("401", Describe(unauthorized), StringComparison.Ordinal);
        }

        // A key for every collection must name one.
        var unnamed = await Assert.ThrowsAnyAsync<Exception>(() => this.ConnectAsync("/mcp", everything));
        Assert.Contains("400", Describe(unnamed), StringComparison.Ordinal);

        // By hand, the HTTP statuses themselves.
        using var http = this._server.ClientWithKey(reader);
        Assert.Equal(HttpStatusCode.NotFound, (await PostInitializeAsync(http, "/mcp/secret")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostInitializeAsync(this._server.ClientWithKey(null), "/mcp/docs")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostInitializeAsync(http, "/mcp/docs")).StatusCode);
    }

    [Fact]
    public async Task AReadersWriteCallsAreRefusedAndWriteNothing()
    {
        var services = await this._server.IndexAsync("docs", ("a.md", "Some text."));
        string reader = this._server.CreateKey("docs-reader", ApiKeyRole.Reader, "docs");
        await using var client = await this.ConnectAsync("/mcp/docs", reader);
        long before = (await services.Collection.GetInfoAsync(Token)).Passages;

        var indexText = await CallRawAsync(client, "index_text", new() { ["text"] = "Injected by a reader.", ["documentId"] = "injected" });
        var forget = await CallRawAsync(client, "forget_document", new() { ["documentId"] = "a.md" });

        Assert.True(indexText.Refused, indexText.Text);
        Assert.True(forget.Refused, forget.Text);
        Assert.Null(await services.Collection.GetDocumentAsync("injected", Token));
        Assert.NotNull(await services.Collection.GetDocumentAsync("a.md", Token));
        Assert.Equal(before, (await services.Collection.GetInfoAsync(Token)).Passages);
    }

    [Fact]
    public async Task AskCannotReadAnImageFromTheServersDiskNorIndexItsFiles()
    {
        using var server = new KnowledgeBaseServerFactory(o =>
        {
            o.EmbeddingModelDirectory = tiny.ConvertedDirectory;
            o.GeneratorModelDirectory = tiny.ConvertedDirectory;
        });
        var services = await server.IndexAsync("docs", ("a.md", "Some text."));
        string image = Images.TestImages.PathOf("photo-640x480.png");
        await using var client = await ConnectAsync(server, "/mcp/docs", server.CreateKey("docs-writer", ApiKeyRole.Writer, "docs"));

        // The plugin behind /mcp reads no path of the server's: ask's image by path is refused, base64 is the way in.
        var byPath = await CallAsync(client, "ask", new() { ["question"] = "What is shown?", ["image"] = image });
        Assert.Contains("reads no files of its host", byPath.GetProperty("error").GetString(), StringComparison.Ordinal);
        var inline = await CallAsync(client, "ask", new() { ["question"] = "What is shown?", ["image"] = Convert.ToBase64String(await File.ReadAllBytesAsync(image, Token)) });
        Assert.False(inline.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String, error.ToString());

        // index_file, called on the plugin itself (it is not offered over HTTP), refuses too.
        var indexed = await services.Plugin.IndexFileAsync(image, Token);
        Assert.Contains("reads no files of its host", indexed.Error, StringComparison.Ordinal);
    }

    private static string Describe(Exception exception) => exception is AggregateException or McpException or HttpRequestException or InvalidOperationException
        ? $"{exception.GetType().Name}: {exception.Message} {(exception as HttpRequestException)?.StatusCode} {(exception.InnerException is { } inner ? Describe(inner) : string.Empty)}"
        : $"{exception.GetType().Name}: {exception.Message}";

    private static Task<HttpResponseMessage> PostInitializeAsync(HttpClient http, string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent("""{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        return http.SendAsync(request, Token);
    }

    /// <summary>Calls a tool and parses its one text block: the plugin's result record as JSON.</summary>
    private static async Task<JsonElement> CallAsync(McpClient client, string tool, Dictionary<string, object?> arguments)
    {
        var result = await client.CallToolAsync(tool, arguments, cancellationToken: Token);
        Assert.NotEqual(true, result.IsError);
        var block = Assert.IsType<TextContentBlock>(Assert.Single(result.Content));
        return JsonDocument.Parse(block.Text).RootElement.Clone();
    }

    /// <summary>Calls a tool that should not run: refused as a protocol error or an error result.</summary>
    private static async Task<(bool Refused, string Text)> CallRawAsync(McpClient client, string tool, Dictionary<string, object?> arguments)
    {
        try
        {
            var result = await client.CallToolAsync(tool, arguments, cancellationToken: Token);
            string text = string.Concat(result.Content.OfType<TextContentBlock>().Select(b => b.Text));
            return (result.IsError == true, text);
        }
        catch (McpException ex)
        {
            return (true, ex.Message);
        }
    }

    private static async Task<McpClient> ConnectAsync(KnowledgeBaseServerFactory server, string path, string? key)
    {
        var options = new HttpClientTransportOptions
        {
            Endpoint = new Uri(server.Server.BaseAddress, path),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = key is null ? null : new Dictionary<string, string> { ["Authorization"] = "Bearer " + key },
        };
        var transport = new HttpClientTransport(options, server.CreateClient(), ownsHttpClient: true);
        return await McpClient.CreateAsync(transport, cancellationToken: Token);
    }

    private Task<McpClient> ConnectAsync(string path, string? key) => ConnectAsync(this._server, path, key);
}
