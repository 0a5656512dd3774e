using System.ComponentModel;
using System.Diagnostics;
using Microsoft.Data.Sqlite;
using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Tests.Infrastructure;
using T5Gemma2.Rag.Tests.Pipeline;

namespace T5Gemma2.Rag.Tests.Cli;

/// <summary>
/// Kinds of failure caused for real and seen through the CLI: one line and the documented exit code, never "internal
/// error". (Model mismatch, a full disk, an unreachable Hub or Qdrant, usage errors: their own test classes.)
/// </summary>
public sealed class FailureExitCodeTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        this._directory.Dispose();
    }

    [Fact]
    public async Task EvaluationSetsMissingOrOfAnotherLayoutAreInputErrors()
    {
        string folder = this._directory.Combine("not-beir");
        Directory.CreateDirectory(folder);
        var (beir, _, beirError) = await CliRunner.RunAsync("eval", "beir", folder, "--model", TestAssets.MiniLmDirectory);
        Assert.True(beir == ExitCodes.InputError, $"exit {beir}: {beirError}");
        Assert.Equal($"t5rag: {Path.Combine(folder, "corpus.jsonl")}: not found (nor corpus.jsonl.gz); expected a BEIR corpus.", Assert.Single(beirError.Trim().Split('\n')));

        string squad = this._directory.Write("squad.json", "{\"data\": 5}");
        var (code, _, error) = await CliRunner.RunAsync("eval", "squad", squad, "--model", TestAssets.MiniLmDirectory);
        Assert.True(code == ExitCodes.InputError, $"exit {code}: {error}");
        string line = Assert.Single(error.Trim().Split('\n'));
        Assert.StartsWith($"t5rag: {squad}: cannot be read as SQuAD", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CudaAskedForWhereItCannotLoadIsAnInputError()
    {
        var (code, _, error) = await CliRunner.RunAsync("embed", "--model", TestAssets.MiniLmDirectory, "--device", "Cuda", "ships at sea");
        if (code == ExitCodes.Success)
        {
            Assert.Skip("CUDA loads in this process (a GPU build on a GPU machine), so its absence cannot be shown here");
        }

        Assert.True(code == ExitCodes.InputError, $"exit {code}: {error}");
        string line = Assert.Single(error.Trim().Split('\n'));
        Assert.Contains("CUDA", line, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWriteLockHeldPastTheWaitIsExitSixWithAWarningFirstAndNothingWritten()
    {
        string store = this._directory.Combine("store");
        string first = this._directory.Write("docs/first.md", "# First\n\nThe harbour master counts the boats at dawn.\n");
        Assert.Equal(ExitCodes.Success, (await CliRunner.RunAsync("index", first, "--store", store, "--model", TestAssets.MiniLmDirectory)).ExitCode);

        // Another process's write, for SQLite: a connection holding the database's write lock for longer than t5rag waits (2 minutes).
        string database = Path.Combine(store, "default", "collection.db");
        string second = this._directory.Write("docs/second.md", "# Second\n\nThe lighthouse keeper feeds the cats at noon.\n");
        (int Code, string Out, string Error) run;
        var clock = Stopwatch.StartNew();
        using (var holder = new SqliteConnection($"Data Source={database};Pooling=False"))
        {
            holder.Open();
            using var held = holder.BeginTransaction(deferred: false);
            run = await CliRunner.RunAsync("index", second, "--store", store, "--model", TestAssets.MiniLmDirectory);
            held.Rollback();
        }

        Assert.True(run.Code == ExitCodes.StoreWriteFailed, $"exit {run.Code}: {run.Error}");
        Assert.InRange(clock.Elapsed.TotalSeconds, 100, 300);
        string[] lines = run.Error.Trim().Split('\n');
        Assert.Contains($"t5rag: warning: {database}: another process is writing the collection; waiting up to 120 s for it to finish", lines);
        Assert.Equal($"t5rag: {database}: another process held the collection's write lock for 120 s; nothing of this write was stored. Run again when it has finished.", lines[^1]);
        Assert.DoesNotContain(lines, l => l.Contains("internal error", StringComparison.Ordinal));

        // Nothing of the refused run is in the store; the first run's document is, whole.
        using var connection = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT source FROM documents";
        using var reader = command.ExecuteReader();
        var sources = new List<string>();
        while (reader.Read())
        {
            sources.Add(reader.GetString(0));
        }

        Assert.EndsWith("first.md", Assert.Single(sources), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CtrlCWhileIndexingIsExit130AndLeavesOnlyWholeDocuments()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "SIGINT is sent with kill(1), which Windows lacks");
        string docs = this._directory.Combine("docs");
        TestCorpus.WriteMarkdown(docs, TestCorpus.Records(600));
        string store = this._directory.Combine("store");

        using var process = CliRunner.StartProcess("index", docs, "--store", store, "--model", TestAssets.MiniLmDirectory, "--embed-batch", "8");
        var drainOut = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var drainError = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        var clock = Stopwatch.StartNew();

        // Ctrl+C once the first passages are stored: mid-run, with the handler long installed.
        while (CollectionDatabase.Count(store, "SELECT count(*) FROM passages") == 0 && !process.HasExited)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(3), "t5rag index stored nothing in 3 minutes");
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        if (process.HasExited)
        {
            Assert.Fail($"t5rag index ended (exit {process.ExitCode}) before it could be interrupted: {await drainError}");
        }

        try
        {
            using var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
        catch (Win32Exception ex)
        {
            process.Kill();
            Assert.Skip($"kill(1) cannot be run here ({ex.Message}), so no SIGINT can be sent");
        }

        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken);
        string error = await drainError;
        await drainOut;

        // 130 is also what a process killed by SIGINT reports; the line shows t5rag itself stopped.
        Assert.True(process.ExitCode == ExitCodes.Cancelled, $"exit {process.ExitCode}: {error}");
        Assert.Equal("t5rag: cancelled.", error.Trim().Split('\n')[^1]);
        long documents = CollectionDatabase.Count(store, "SELECT count(*) FROM documents");
        Assert.InRange(documents, 1, 599);
        Assert.Equal(0, CollectionDatabase.Count(store, "SELECT count(*) FROM documents d WHERE d.passage_count != (SELECT count(*) FROM passages p WHERE p.document_id = d.id)"));
        Assert.Equal(CollectionDatabase.Count(store, "SELECT count(*) FROM passages"), CollectionDatabase.Count(store, "SELECT count(*) FROM passages_fts"));
    }
}
