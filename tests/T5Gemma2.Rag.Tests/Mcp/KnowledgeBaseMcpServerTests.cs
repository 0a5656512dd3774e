using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Mcp;
using T5Gemma2.Rag.SemanticKernel;
using T5Gemma2.Rag.Tests.Infrastructure;
using T5Gemma2.Rag.Tests.Pipeline;
using T5Gemma2.Rag.Tests.SemanticKernel;

namespace T5Gemma2.Rag.Tests.Mcp;

/// <summary>The MCP tools listed and called with the ModelContextProtocol package's own client, connected in-process over pipes.</summary>
public sealed class KnowledgeBaseMcpServerTests(SharedMiniLm miniLm, SharedTinyT5Gemma2 tiny) : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        this._directory.Dispose();
    }

    [Fact]
    public async Task ToolsAreListedWithSchemasAndCalledByTheSdksClient()
    {
        var ct = TestContext.Current.CancellationToken;
        var records = TestCorpus.Records(8);
        string docs = this._directory.Combine("docs");
        TestCorpus.WriteMarkdown(docs, records);
        await using var kernel = KnowledgeKernel.Create(miniLm.Generator, this._directory.Combine("store"), o =>
        {
            o.GeneratorModelDirectory = tiny.ConvertedDirectory;
            o.Generation = new GenerationOptions { MaxNewTokens = 4, MinNewTokens = 4 };
        });
        var plugin = kernel.Kernel.Services.GetRequiredService<KnowledgeBasePlugin>();

        var toServer = new Pipe();
        var toClient = new Pipe();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var transport = new StreamServerTransport(toServer.Reader.AsStream(), toClient.Writer.AsStream(), KnowledgeBaseMcpServer.ServerName);
        var serving = KnowledgeBaseMcpServer.RunAsync(plugin, transport, cancellationToken: stop.Token);
        try
        {
            await using var client = await McpClient.CreateAsync(new StreamClientTransport(toServer.Writer.AsStream(), toClient.Reader.AsStream()), cancellationToken: ct);
            Assert.Equal("t5rag", client.ServerInfo?.Name);

            var tools = await client.ListToolsAsync(cancellationToken: ct);
            Assert.Equal(["ask", "forget_document", "index_file", "index_text", "search"], tools.Select(t => t.Name).Order(StringComparer.Ordinal));
            var search = tools.Single(t => t.Name == "search");
            Assert.Contains("passages", search.Description ?? "", StringComparison.Ordinal);
            Assert.Equal(["query"], search.JsonSchema.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal("What to look for: a question or keywords.", search.JsonSchema.GetProperty("properties").GetProperty("query").GetProperty("description").GetString());
            Assert.True(search.ProtocolTool.Annotations?.ReadOnlyHint);
            Assert.True(tools.Single(t => t.Name == "forget_document").ProtocolTool.Annotations?.DestructiveHint);

            var empty = await CallAsync(client, "search", new() { ["query"] = "ships" });
            Assert.Contains("collection 'kb' is empty", empty.GetProperty("error").GetString(), StringComparison.Ordinal);

            var indexed = await CallAsync(client, "index_file", new() { ["path"] = docs });
            Assert.Equal(8, indexed.GetProperty("documentsNew").GetInt32());
            var text = await CallAsync(client, "index_text", new() { ["text"] = "The ferry to Vellmar Point leaves at seven.", ["documentId"] = "ferry" });
            Assert.Equal("ferry", text.GetProperty("documentId").GetString());

            var found = await CallAsync(client, "search", new() { ["query"] = records[2].Title, ["top"] = 2 });
            var first = found.GetProperty("passages")[0];
            Assert.Equal(records[2].Title, first.GetProperty("title").GetString());
            Assert.EndsWith("0002.md", first.GetProperty("source").GetString(), StringComparison.Ordinal);

            var answer = await CallAsync(client, "ask", new() { ["question"] = $"Tell me about {records[2].Title}", ["top"] = 2 });
            Assert.False(string.IsNullOrWhiteSpace(answer.GetProperty("answer").GetString()));
            Assert.EndsWith("0002.md", answer.GetProperty("citations")[0].GetProperty("source").GetString(), StringComparison.Ordinal);
            // An image as an MCP client sends it: base64 in a string argument, the same answer as through a data: URI.
            Assert.Contains("base64", tools.Single(t => t.Name == "ask").JsonSchema.GetProperty("properties").GetProperty("image").GetProperty("description").GetString(), StringComparison.Ordinal);
            string png = Convert.ToBase64String(File.ReadAllBytes(Images.TestImages.PathOf("photo-640x480.png")));
            var withImage = await CallAsync(client, "ask", new() { ["question"] = $"Tell me about {records[2].Title}", ["top"] = 2, ["image"] = png });
            var withUri = await CallAsync(client, "ask", new() { ["question"] = $"Tell me about {records[2].Title}", ["top"] = 2, ["image"] = "data:image/png;base64," + png });
            Assert.False(withImage.TryGetProperty("error", out var imageError) && imageError.ValueKind == JsonValueKind.String, imageError.ToString());
            Assert.Equal(withImage.GetProperty("answer").GetString(), withUri.GetProperty("answer").GetString());
            var noQuestion = await CallAsync(client, "ask", new() { ["question"] = " " });
            Assert.Equal("the question is empty; ask a question in words.", noQuestion.GetProperty("error").GetString());

            var forgotten = await CallAsync(client, "forget_document", new() { ["documentId"] = "ferry" });
            Assert.True(forgotten.GetProperty("removed").GetBoolean());
        }
        finally
        {
            await stop.CancelAsync();
            try
            {
                await serving.WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
            }
            catch (OperationCanceledException)
            {
                // Stopping the server by cancellation is the expected end.
            }

            await transport.DisposeAsync();
        }
    }

    /// <summary>Calls a tool and parses its one text block: the plugin's result record as JSON.</summary>
    private static async Task<JsonElement> CallAsync(McpClient client, string tool, Dictionary<string, object?> arguments)
    {
        var result = await client.CallToolAsync(tool, arguments, cancellationToken: TestContext.Current.CancellationToken);
        Assert.NotEqual(true, result.IsError);
        var block = Assert.IsType<TextContentBlock>(Assert.Single(result.Content));
        return JsonDocument.Parse(block.Text).RootElement.Clone();
    }
}
