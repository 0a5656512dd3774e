using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Indexer.Stores.Embedded;
using T5Gemma2.Rag.Tests.Cli;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Mcp;

/// <summary>`t5rag mcp` as a separate process over real stdio, and its bad input in-process.</summary>
public sealed class McpCommandTests(SharedMiniLm miniLm) : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        this._directory.Dispose();
    }

    [Fact]
    public async Task ServesOverStdioToTheSdksClientAndSpeaksOnStderr()
    {
        var ct = TestContext.Current.CancellationToken;
        var stderr = new ConcurrentQueue<string>();
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Name = "t5rag",
            Command = "dotnet",
            Arguments = [T5rag, "mcp", "--model", TestAssets.MiniLmDirectory, "--store", this._directory.Combine("store"), "--collection", "kb"],
            WorkingDirectory = this._directory.Path,
            StandardErrorLines = stderr.Enqueue,
        });
        await using var client = await McpClient.CreateAsync(transport, cancellationToken: ct);

        var tools = await client.ListToolsAsync(cancellationToken: ct);
        Assert.Equal(["ask", "forget_document", "index_file", "index_text", "search"], tools.Select(t => t.Name).Order(StringComparer.Ordinal));
        await client.CallToolAsync("index_text", new Dictionary<string, object?> { ["text"] = "The ferry to Vellmar Point leaves at seven.", ["documentId"] = "ferry" }, cancellationToken: ct);
        var found = await client.CallToolAsync("search", new Dictionary<string, object?> { ["query"] = "When does the ferry leave?" }, cancellationToken: ct);
        var passage = JsonDocument.Parse(Assert.IsType<TextContentBlock>(Assert.Single(found.Content)).Text).RootElement.GetProperty("passages")[0];
        Assert.Equal("ferry", passage.GetProperty("documentId").GetString());
        var ask = await client.CallToolAsync("ask", new Dictionary<string, object?> { ["question"] = "When?" }, cancellationToken: ct);
        Assert.Contains("no answering model is configured", Assert.IsType<TextContentBlock>(Assert.Single(ask.Content)).Text, StringComparison.Ordinal);

        Assert.Contains(stderr, line => line.StartsWith("t5rag mcp: serving collection 'kb'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StdoutCarriesOnlyTheProtocol()
    {
        var ct = TestContext.Current.CancellationToken;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = this._directory.Path,
        };
        foreach (string argument in new[] { T5rag, "mcp", "--model", TestAssets.MiniLmDirectory, "--store", this._directory.Combine("store") })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        try
        {
            await TalkAsync(process, ct);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    private static async Task TalkAsync(Process process, CancellationToken ct)
    {
        var error = process.StandardError.ReadToEndAsync(ct);
        string[] requests =
        [
            """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}""",
            """{"jsonrpc":"2.0","method":"notifications/initialized"}""",
            """{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"search","arguments":{"query":"ships"}}}""",
        ];
        foreach (string request in requests)
        {
            await process.StandardInput.WriteLineAsync(request.AsMemory(), ct);
        }

        await process.StandardInput.FlushAsync(ct);
        var lines = new List<string>();
        while (lines.Count < 2 && await process.StandardOutput.ReadLineAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(60), ct) is { } line)
        {
            lines.Add(line);
        }

        // End of stdin ends the session and the process; nothing more may appear on stdout.
        process.StandardInput.Close();
        string rest = await process.StandardOutput.ReadToEndAsync(ct).WaitAsync(TimeSpan.FromSeconds(60), ct);
        await process.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(60), ct);

        Assert.Equal(0, process.ExitCode);
        Assert.Equal(2, lines.Count);
        Assert.All(lines, line => Assert.Equal("2.0", JsonDocument.Parse(line).RootElement.GetProperty("jsonrpc").GetString()));
        string result = JsonDocument.Parse(lines[1]).RootElement.GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString()!;
        Assert.StartsWith("collection 'default' is empty", JsonDocument.Parse(result).RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("", rest.Trim());
        Assert.Contains("t5rag mcp: serving collection 'default'", await error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadInputIsOneLineOnStderrAndNothingOnStdout()
    {
        string store = this._directory.Combine("store");
        var (noModel, out1, err1) = await CliRunner.RunAsync("mcp", "--store", store);
        Assert.Equal((ExitCodes.UsageError, ""), (noModel, out1));
        Assert.Contains("no embedding model", err1, StringComparison.Ordinal);

        var (encoderOnly, out2, err2) = await CliRunner.RunAsync("mcp", "--store", store, "--model", TestAssets.MiniLmDirectory, "--generator", TestAssets.MiniLmDirectory);
        Assert.Equal((ExitCodes.InputError, ""), (encoderOnly, out2));
        Assert.Contains("expected a T5Gemma 2 conversion", err2, StringComparison.Ordinal);

        using (var other = EmbeddedPassageStore.Open(store))
        {
            await other.OpenOrCreateCollectionAsync("kb", new CollectionSettings(768, "google/t5gemma-2-270m-270m"), TestContext.Current.CancellationToken);
        }

        var (mismatch, out3, err3) = await CliRunner.RunAsync("mcp", "--store", store, "--collection", "kb", "--model", TestAssets.MiniLmDirectory);
        Assert.Equal((ExitCodes.InputError, ""), (mismatch, out3));
        Assert.Contains($"collection 'kb' holds 768-dimension vectors of model 'google/t5gemma-2-270m-270m'; the model given makes 384-dimension vectors as '{miniLm.Generator.Model.ModelId}'", err3, StringComparison.Ordinal);
    }

    private static string T5rag => Path.Combine(AppContext.BaseDirectory, "t5rag.dll");
}
