using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Server.Security;
using T5Gemma2.Rag.Tests.Infrastructure;
using T5Gemma2.Rag.Tests.Server;

namespace T5Gemma2.Rag.Tests.Cli;

/// <summary>
/// <c>t5rag bench serve</c> on the real MiniLM model and a real embedded store, over real HTTP on loopback: a server it
/// starts itself, and one already running (a Kestrel-hosted test server) that it drives from outside.
/// </summary>
public sealed class ServeBenchCommandTests
{
    private static readonly string[] s_columns = ["phase", "clients", "seconds", "requests", "requests/s", "p50 ms", "p99 ms", "2xx", "4xx", "5xx", "transport", "peak RSS MiB"];

    [Fact]
    public async Task AShortRunAgainstAServerItStartsAnswersSearchesWithoutServerErrors()
    {
        using var temp = new TempDirectory();
        var (code, output, error) = await CliRunner.RunAsync(
            "bench", "serve", "--start", "--passages", "200", "--searchers", "4", "--seconds", "3",
            "--model", TestAssets.MiniLmDirectory, "--store", temp.Combine("store"));

        Assert.True(code == ExitCodes.Success, error + output);
        string report = CliRunner.AfterBenchHeader(output);
        Assert.Contains("collection bench-serve: 200 passages (200 embedded now", report, StringComparison.Ordinal);

        // The table: its header, then one row for the search phase (no generator: no ask row).
        string[] lines = report.Split('\n');
        int header = Array.FindIndex(lines, l => l.StartsWith("phase ", StringComparison.Ordinal));
        Assert.True(header > 0, report);
        Assert.Equal(s_columns, Columns(lines[header], s_columns));
        string[] search = lines[header + 1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(s_columns.Length, search.Length);
        Assert.Equal("search", search[0]);
        Assert.Equal("4", search[1]);
        int requests = int.Parse(search[3], CultureInfo.InvariantCulture);
        Assert.True(requests > 0, report);
        Assert.Equal(requests, int.Parse(search[7], CultureInfo.InvariantCulture) + int.Parse(search[8], CultureInfo.InvariantCulture) + int.Parse(search[9], CultureInfo.InvariantCulture) + int.Parse(search[10], CultureInfo.InvariantCulture));
        Assert.Equal("0", search[9]);
        Assert.True(double.Parse(search[5], CultureInfo.InvariantCulture) <= double.Parse(search[6], CultureInfo.InvariantCulture), report);
        Assert.True(double.Parse(search[11], CultureInfo.InvariantCulture) > 0, report);
        Assert.False(lines[header + 2].StartsWith("ask", StringComparison.Ordinal), report);

        Assert.Contains($"statuses, search: 200 ×{search[7]}", report, StringComparison.Ordinal);
        Assert.Contains("ask: skipped, the server has no generator (--generator)", report, StringComparison.Ordinal);
        string uploads = Assert.Single(lines, l => l.StartsWith("uploads: ", StringComparison.Ordinal));

        // Every upload accepted during the phase is found by its marker.
        var accepted = System.Text.RegularExpressions.Regex.Match(uploads, @"^uploads: (\d+) accepted .*searchable afterwards \(keyword search for each one's marker word\): (\d+)/(\d+)$");
        Assert.True(accepted.Success, uploads);
        Assert.True(int.Parse(accepted.Groups[1].Value, CultureInfo.InvariantCulture) > 0, uploads);
        Assert.Equal(accepted.Groups[1].Value, accepted.Groups[2].Value);
        Assert.Equal(accepted.Groups[1].Value, accepted.Groups[3].Value);

        Assert.Contains("peak RSS: of this process, server and clients together", report, StringComparison.Ordinal);
        Assert.EndsWith("targets: met", lines.Last(l => l.Length > 0).Split(" (", 2)[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARunningServerIsDrivenFromOutsideAndItsMemoryReadFromProc()
    {
        using var server = new KnowledgeBaseServerFactory();
        server.UseKestrel(0);
        server.StartServer();
        string address = server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        // A collection that already has the passages asked for: reused, not filled again.
        var services = await server.Collections.OpenOrCreateAsync("bench-serve", TestContext.Current.CancellationToken);
        var documents = Enumerable.Range(0, 20).Select(i => new LoadedDocument { DocumentId = $"d{i}", Source = $"d{i}.txt", Text = $"Passage {i} about vectors, collections and payloads number {i}." }).ToAsyncEnumerable();
        Assert.True((await services.Pipeline.IndexDocumentsAsync(documents, cancellationToken: TestContext.Current.CancellationToken)).Succeeded);

        var (code, output, error) = await CliRunner.RunAsync(
            "bench", "serve", "--url", address, "--passages", "20", "--searchers", "2", "--seconds", "2", "--mode", "dense",
            "--server-pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), "--json");

        Assert.True(code == ExitCodes.Success, error + output);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.False(root.GetProperty("in_process").GetBoolean());
        Assert.Equal(20, root.GetProperty("passages").GetInt64());
        Assert.True(root.GetProperty("prepared").GetProperty("reused").GetBoolean());
        var search = Assert.Single(root.GetProperty("phases").EnumerateArray());
        Assert.Equal("search", search.GetProperty("name").GetString());
        int requests = search.GetProperty("requests").GetInt32();
        Assert.True(requests > 0);
        Assert.Equal(requests, search.GetProperty("successes").GetInt32());
        Assert.Equal(0, search.GetProperty("server_errors").GetInt32());
        Assert.Equal(requests, search.GetProperty("statuses").GetProperty("200").GetInt32());
        Assert.True(search.GetProperty("p50_ms").GetDouble() <= search.GetProperty("p99_ms").GetDouble());

        // The server's process is this one: its VmHWM, at least what it holds now.
        Assert.True(search.GetProperty("peak_rss_bytes").GetInt64() >= Environment.WorkingSet / 2);
        Assert.Empty(root.GetProperty("targets_missed").EnumerateArray());
        var uploads = root.GetProperty("uploads");
        Assert.True(uploads.GetProperty("available").GetBoolean());
        Assert.True(uploads.GetProperty("accepted").GetInt32() > 0);
        Assert.Equal(uploads.GetProperty("accepted").GetInt32(), uploads.GetProperty("searchable").GetInt32());

        // Once the server has keys, a bench with a key that is none of them is refused before any phase, says by
        // what, and does not print the key it was given.
        server.CreateKey("reader", ApiKeyRole.Reader, "bench-serve");
        var (refused, header, why) = await CliRunner.RunAsync("bench", "serve", "--url", address, "--passages", "20", "--seconds", "1", "--key", "t5rag-not-a-key");
        Assert.Equal(ExitCodes.Unavailable, refused);
        Assert.Contains("GET /api/collections/bench-serve answered 401", why, StringComparison.Ordinal);
        Assert.Contains("--key ***", header, StringComparison.Ordinal);
        Assert.DoesNotContain("t5rag-not-a-key", header + why, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "give --url of a running server, or --start")]
    [InlineData("--start --url http://127.0.0.1:1", "give --url of a running server, or --start")]
    [InlineData("--url ftp://127.0.0.1:1", "--url ftp://127.0.0.1:1: expected http://host:port.")]
    [InlineData("--url http://127.0.0.1:1 --searchers 0", "--searchers 0")]
    [InlineData("--url http://127.0.0.1:1 --mode fuzzy", "--mode fuzzy: expected dense, keyword or hybrid.")]
    public async Task ACommandLineThatCannotRunIsAUsageError(string arguments, string expected)
    {
        var (code, _, error) = await CliRunner.RunAsync(["bench", "serve", .. arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)]);

        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    /// <summary>The header line split at the known column names (they contain single spaces; columns are two apart).</summary>
    private static string[] Columns(string header, string[] expected) =>
        [.. header.Split("  ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Take(expected.Length)];
}
