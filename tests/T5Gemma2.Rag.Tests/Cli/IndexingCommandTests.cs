using System.Text.Json;
using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Tests.Infrastructure;
using T5Gemma2.Rag.Tests.Pipeline;

namespace T5Gemma2.Rag.Tests.Cli;

/// <summary>`t5rag index | search | collections | eval` end to end on the real MiniLM model and files.</summary>
public sealed class IndexingCommandTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        this._directory.Dispose();
    }

    [Fact]
    public async Task IndexThenSearchThenReindexReportsNothingNew()
    {
        string docs = this._directory.Combine("my docs ü");
        TestCorpus.WriteMarkdown(docs, TestCorpus.Records(20));
        this._directory.Write("my docs ü/bad.docx", "not a zip");
        string store = this._directory.Combine("store");

        var (code, output, error) = await CliRunner.RunAsync("index", docs, "--store", store, "--model", TestAssets.MiniLmDirectory, "--tags", "team=kb");
        Assert.Equal(ExitCodes.PartialFailure, code);
        Assert.Contains("documents: 20 new, 0 changed, 0 unchanged", output, StringComparison.Ordinal);
        Assert.Contains("bad.docx", error, StringComparison.Ordinal);

        var (again, json, _) = await CliRunner.RunAsync("index", docs, "--store", store, "--model", TestAssets.MiniLmDirectory, "--tags", "team=kb", "--exclude", "*.docx", "--json");
        Assert.Equal(ExitCodes.Success, again);
        var summary = JsonDocument.Parse(json).RootElement;
        Assert.Equal(0, summary.GetProperty("passages_new").GetInt32());
        Assert.Equal(20, summary.GetProperty("documents_unchanged").GetInt32());

        var record = TestCorpus.Records(20)[4];
        var (found, hits, _) = await CliRunner.RunAsync("search", record.Title, "--store", store, "--model", TestAssets.MiniLmDirectory, "--top", "3", "--json", "--filter", "tag.team=kb");
        Assert.Equal(ExitCodes.Success, found);
        var first = JsonDocument.Parse(hits).RootElement[0];
        Assert.Equal(record.Title, first.GetProperty("title").GetString());
        Assert.EndsWith("0004.md", first.GetProperty("source").GetString(), StringComparison.Ordinal);

        var (keyword, text, _) = await CliRunner.RunAsync("search", record.Title, "--store", store, "--mode", "keyword", "--top", "1");
        Assert.Equal(ExitCodes.Success, keyword);
        Assert.Contains("0004.md", text, StringComparison.Ordinal);

        var (none, empty, _) = await CliRunner.RunAsync("search", record.Title, "--store", store, "--mode", "keyword", "--filter", "tag.team=other");
        Assert.Equal(ExitCodes.Success, none);
        Assert.Contains("no passages found", empty, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IndexingAFolderFollowsNoLinkOutOfItUnlessAsked()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "symbolic links need a privilege on Windows");
        string docs = this._directory.Combine("docs");
        this._directory.Write("docs/own.md", "# Own\n\nThe folder's own page about harbours.\n");
        this._directory.Write("home/.ssh/notes.md", "# Private\n\nprivatekeyphrase outside the folder\n");
        Directory.CreateSymbolicLink(Path.Combine(docs, "home"), this._directory.Combine("home", ".ssh"));
        string store = this._directory.Combine("store");

        var (code, output, _) = await CliRunner.RunAsync("index", docs, "--store", store, "--model", TestAssets.MiniLmDirectory);
        Assert.Equal(ExitCodes.Success, code);
        Assert.Contains("documents: 1 new", output, StringComparison.Ordinal);
        Assert.Contains("not followed: 1 symbolic links out of the folders given (--follow-links follows them)", output, StringComparison.Ordinal);
        var (_, hits, _) = await CliRunner.RunAsync("search", "privatekeyphrase", "--store", store, "--mode", "keyword");
        Assert.DoesNotContain("notes.md", hits, StringComparison.Ordinal);

        var (followed, again, _) = await CliRunner.RunAsync("index", docs, "--store", store, "--model", TestAssets.MiniLmDirectory, "--follow-links");
        Assert.Equal(ExitCodes.Success, followed);
        Assert.Contains("documents: 1 new, 0 changed, 1 unchanged", again, StringComparison.Ordinal);
        var (_, found, _) = await CliRunner.RunAsync("search", "privatekeyphrase", "--store", store, "--mode", "keyword");
        Assert.Contains("notes.md", found, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheSameFolderIndexedFromTwoWorkingDirectoriesKeepsItsDocumentIds()
    {
        TestCorpus.WriteMarkdown(this._directory.Combine("kb", "docs"), TestCorpus.Records(3));
        Directory.CreateDirectory(this._directory.Combine("elsewhere", "deeper"));
        string store = this._directory.Combine("store");

        // Child processes, because the working directory belongs to the whole process.
        var first = await RunInAsync(this._directory.Combine("kb"), "index", "docs", "--store", store, "--model", TestAssets.MiniLmDirectory, "--json");
        var second = await RunInAsync(this._directory.Combine("elsewhere", "deeper"), "index", Path.Combine("..", "..", "kb", "docs"), "--store", store, "--model", TestAssets.MiniLmDirectory, "--json");

        Assert.Equal(3, JsonDocument.Parse(first).RootElement.GetProperty("documents_new").GetInt32());
        var again = JsonDocument.Parse(second).RootElement;
        Assert.Equal((0, 3, 0), (again.GetProperty("documents_new").GetInt32(), again.GetProperty("documents_unchanged").GetInt32(), again.GetProperty("documents_changed").GetInt32()));
        var (_, hits, _) = await CliRunner.RunAsync("search", TestCorpus.Records(3)[1].Title, "--store", store, "--mode", "keyword", "--json", "--top", "1");
        string expected = this._directory.Combine("kb", "docs").Replace('\\', '/') + "/";
        Assert.StartsWith(expected, JsonDocument.Parse(hits).RootElement[0].GetProperty("document_id").GetString(), StringComparison.Ordinal);
    }

    private static async Task<string> RunInAsync(string workingDirectory, params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in (string[])["exec", Path.Combine(AppContext.BaseDirectory, "t5rag.dll"), .. args])
        {
            start.ArgumentList.Add(argument);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(process.ExitCode == ExitCodes.Success, await error);
        return await output;
    }

    [Fact]
    public async Task CollectionsListInfoDeleteAndBadArguments()
    {
        string docs = this._directory.Combine("docs");
        TestCorpus.WriteMarkdown(docs, TestCorpus.Records(3));
        string store = this._directory.Combine("store");
        Assert.Equal(ExitCodes.Success, (await CliRunner.RunAsync("index", docs, "--store", store, "--model", TestAssets.MiniLmDirectory, "--collection", "notes")).ExitCode);

        var (listed, list, _) = await CliRunner.RunAsync("collections", "list", "--store", store);
        Assert.Equal(ExitCodes.Success, listed);
        Assert.Contains("notes", list, StringComparison.Ordinal);
        var (described, info, _) = await CliRunner.RunAsync("collections", "info", "notes", "--store", store);
        Assert.Equal(ExitCodes.Success, described);
        Assert.Contains("documents: 3", info, StringComparison.Ordinal);
        Assert.Contains("384 dimensions", info, StringComparison.Ordinal);

        Assert.Equal(ExitCodes.UsageError, (await CliRunner.RunAsync("search", "x", "--store", store, "--collection", "missing", "--mode", "keyword")).ExitCode);
        Assert.Equal(ExitCodes.UsageError, (await CliRunner.RunAsync("search", "x", "--store", store, "--collection", "notes", "--mode", "sideways")).ExitCode);
        Assert.Equal(ExitCodes.UsageError, (await CliRunner.RunAsync("search", "x", "--store", store, "--collection", "notes", "--filter", "colour=red")).ExitCode);
        Assert.Equal(ExitCodes.UsageError, (await CliRunner.RunAsync("index", docs, "--store", store, "--model", TestAssets.MiniLmDirectory, "--chunk-tokens", "4000")).ExitCode);
        Assert.Equal(ExitCodes.UsageError, (await CliRunner.RunAsync("index", docs, "--store", store, "--model", TestAssets.MiniLmDirectory, "--tags", "novalue")).ExitCode);

        var (deleted, _, _) = await CliRunner.RunAsync("collections", "delete", "notes", "--store", store);
        Assert.Equal(ExitCodes.Success, deleted);
        Assert.Equal(ExitCodes.UsageError, (await CliRunner.RunAsync("collections", "info", "notes", "--store", store)).ExitCode);
    }

    [Fact]
    public async Task ANewerStoreSchemaIsAnInputErrorNamingTheFile()
    {
        string docs = this._directory.Combine("docs");
        TestCorpus.WriteMarkdown(docs, TestCorpus.Records(2));
        string store = this._directory.Combine("store");
        Assert.Equal(ExitCodes.Success, (await CliRunner.RunAsync("index", docs, "--store", store, "--model", TestAssets.MiniLmDirectory)).ExitCode);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(store, "default", "collection.db")};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA user_version = 7";
            command.ExecuteNonQuery();
        }

        var (code, _, error) = await CliRunner.RunAsync("index", docs, "--store", store, "--model", TestAssets.MiniLmDirectory);
        Assert.Equal(ExitCodes.InputError, code);
        Assert.Contains("schema version 7 is newer", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public async Task EvalBeirScoresEveryModeOnARealSubset()
    {
        // A BEIR folder cut from the shared MS MARCO subset: CRLF qrels, the corpus gzip-compressed.
        string dataset = this._directory.Combine("mini");
        Directory.CreateDirectory(Path.Combine(dataset, "qrels"));
        string source = Path.GetDirectoryName(TestAssets.Dataset("msmarco/queries.jsonl"))!;
        var qrels = File.ReadAllLines(Path.Combine(source, "qrels", "test.tsv")).Skip(1).Select(l => l.Split('\t')).ToList();
        var queries = qrels.Select(q => q[0]).Distinct().Take(5).ToHashSet();
        var judged = qrels.Where(q => queries.Contains(q[0])).ToList();
        File.WriteAllText(Path.Combine(dataset, "qrels", "test.tsv"), "query-id\tcorpus-id\tscore\r\n" + string.Concat(judged.Select(q => string.Join('\t', q) + "\r\n")));
        File.WriteAllLines(Path.Combine(dataset, "queries.jsonl"), File.ReadLines(Path.Combine(source, "queries.jsonl")).Where(l => queries.Contains(JsonDocument.Parse(l).RootElement.GetProperty("_id").GetString()!)));
        var documents = judged.Select(q => q[1]).ToHashSet();
        using (var input = new System.IO.Compression.GZipStream(File.OpenRead(Path.Combine(source, "corpus.jsonl.gz")), System.IO.Compression.CompressionMode.Decompress))
        using (var output = new System.IO.Compression.GZipStream(File.Create(Path.Combine(dataset, "corpus.jsonl.gz")), System.IO.Compression.CompressionLevel.Fastest))
        using (var reader = new StreamReader(input))
        using (var writer = new StreamWriter(output))
        {
            int others = 0;
            while (reader.ReadLine() is { } line)
            {
                if (documents.Contains(JsonDocument.Parse(line).RootElement.GetProperty("_id").GetString()!) || others++ < 200)
                {
                    writer.WriteLine(line);
                }
            }
        }

        var (code, output2, error) = await CliRunner.RunAsync("eval", "beir", dataset, "--model", TestAssets.MiniLmDirectory, "--json");
        Assert.True(code == ExitCodes.Success, error);
        var rows = JsonDocument.Parse(output2).RootElement.EnumerateArray().ToList();
        Assert.Equal(["dense", "keyword", "hybrid", "hybrid-convex"], rows.Select(r => r.GetProperty("mode").GetString()));
        Assert.All(rows, r => Assert.Equal(5, r.GetProperty("queries").GetInt32()));

        // A real model on its own judged documents among 200 distractors: far above chance.
        Assert.All(rows, r => Assert.InRange(r.GetProperty("ndcg_at_10").GetDouble(), 0.3, 1.0));
        Assert.All(rows, r => Assert.True(r.GetProperty("recall_at_100").GetDouble() >= r.GetProperty("recall_at_10").GetDouble()));
    }
}
