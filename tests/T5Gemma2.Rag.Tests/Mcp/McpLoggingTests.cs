using System.Diagnostics;
using System.Text.Json;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Mcp;

/// <summary>
/// `t5rag mcp` as a real process over stdio, asked things that make the libraries warn: the warnings arrive on
/// stderr and stdout stays the protocol, line for line.
/// </summary>
public sealed class McpLoggingTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        this._directory.Dispose();
    }

    [Fact]
    public async Task WarningsGoToStderrAndStdoutIsOnlyProtocolJson()
    {
        var ct = TestContext.Current.CancellationToken;
        string bad = this._directory.Write("bad.docx", "not a zip");
        string longText = string.Join(' ', Enumerable.Repeat("The ferry to Vellmar Point leaves at seven.", 80));
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = this._directory.Path,
        };
        foreach (string argument in new[] { Path.Combine(AppContext.BaseDirectory, "t5rag.dll"), "mcp", "--model", TestAssets.MiniLmDirectory, "--store", this._directory.Combine("store"), "--verbose" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        try
        {
            var error = process.StandardError.ReadToEndAsync(ct);
            string[] requests =
            [
                """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}""",
                """{"jsonrpc":"2.0","method":"notifications/initialized"}""",
                // A file that cannot be loaded: the pipeline warns that it was not indexed.
                JsonSerializer.Serialize(new { jsonrpc = "2.0", id = 2, method = "tools/call", @params = new { name = "index_file", arguments = new { path = bad } } }),
                JsonSerializer.Serialize(new { jsonrpc = "2.0", id = 3, method = "tools/call", @params = new { name = "index_text", arguments = new { text = "The ferry to Vellmar Point leaves at seven.", documentId = "ferry" } } }),
                // A query longer than the model reads: the embedding generator warns that it truncated it.
                JsonSerializer.Serialize(new { jsonrpc = "2.0", id = 4, method = "tools/call", @params = new { name = "search", arguments = new { query = longText } } }),
            ];

            // One request at a time (the server runs calls concurrently): the search must find the indexed text.
            var lines = new List<string>();
            foreach (string request in requests)
            {
                await process.StandardInput.WriteLineAsync(request.AsMemory(), ct);
                await process.StandardInput.FlushAsync(ct);
                if (request.Contains("\"id\"", StringComparison.Ordinal)
                    && await process.StandardOutput.ReadLineAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(90), ct) is { } line)
                {
                    lines.Add(line);
                }
            }

            process.StandardInput.Close();
            lines.AddRange((await process.StandardOutput.ReadToEndAsync(ct).WaitAsync(TimeSpan.FromSeconds(60), ct)).Split('\n', StringSplitOptions.RemoveEmptyEntries));
            await process.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(60), ct);
            string stderr = await error;

            Assert.Equal(0, process.ExitCode);
            Assert.Equal(4, lines.Count);
            Assert.All(lines, line => Assert.Equal("2.0", JsonDocument.Parse(line).RootElement.GetProperty("jsonrpc").GetString()));
            Assert.Equal([1, 2, 3, 4], lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("id").GetInt32()));
            string found = JsonDocument.Parse(lines[3]).RootElement.GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString()!;
            Assert.Equal("ferry", JsonDocument.Parse(found).RootElement.GetProperty("passages")[0].GetProperty("documentId").GetString());

            Assert.Contains($"t5rag: warning: {bad} was not indexed: ", stderr, StringComparison.Ordinal);
            Assert.Contains("t5rag: warning: 1 of 1 inputs were longer than 256 tokens and were truncated", stderr, StringComparison.Ordinal);
            Assert.Contains("t5rag: debug: Embedded 1 inputs", stderr, StringComparison.Ordinal);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }
}
