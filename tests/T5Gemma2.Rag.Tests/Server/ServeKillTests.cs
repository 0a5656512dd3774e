using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.Data.Sqlite;
using T5Gemma2.Rag.Tests.Infrastructure;
using T5Gemma2.Rag.Tests.Pipeline;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>
/// <c>t5rag serve</c> in a real process, killed with SIGKILL in the middle of an ingestion job and in the middle of an
/// upload, then started again on the same store: every acknowledged document is indexed exactly once (the same
/// passages as <c>t5rag index</c> of the same files), and nothing of an unacknowledged upload remains.
/// </summary>
public sealed class ServeKillTests : IDisposable
{
    private const int Files = 600;

    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        this._directory.Dispose();
    }

    [Fact]
    public async Task KilledWhileAJobRunsTheRestartedServerFinishesItWithEveryDocumentOnce()
    {
        string docs = this._directory.Combine("docs");
        var paths = TestCorpus.WriteMarkdown(docs, TestCorpus.Records(Files));
        string store = this._directory.Combine("served");
        string id;
        using (var server = await ServeProcess.StartAsync(store))
        {
            var (response, body) = await Uploads.PostAsync(server.Client, "default", paths.Select(p => (Path.GetFileName(p), File.ReadAllBytes(p))));
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{response.StatusCode}: {body}");
            id = body.GetProperty("job_id").GetString()!;

            // Killed once the first documents are written, well before the last.
            var clock = Stopwatch.StartNew();
            while (CollectionDatabase.Count(store, "SELECT count(*) FROM documents") == 0)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(3), $"no document written in 3 minutes: {server.Output}");
                await Task.Delay(10, TestContext.Current.CancellationToken);
            }

            server.Kill();
        }

        long written = CollectionDatabase.Count(store, "SELECT count(*) FROM documents");
        Assert.True(written is > 0 and < Files, $"the kill landed in the middle of the job ({written} of {Files} documents written)");
        Assert.Equal("running", ServiceScalar(store, "SELECT state FROM jobs WHERE id = $id", id));

        using (var restarted = await ServeProcess.StartAsync(store))
        {
            var job = await Uploads.WaitForJobAsync(restarted.Client, id, TimeSpan.FromMinutes(5));
            Assert.True(job.GetProperty("state").GetString() == "succeeded", job.ToString());
            Assert.Equal(Files, job.GetProperty("files_done").GetInt32());
            var documents = await Uploads.DocumentsAsync(restarted.Client, "default");
            Assert.Equal(paths.Select(Path.GetFileName).Order(StringComparer.Ordinal), documents.Select(d => d.GetProperty("document_id").GetString()));
            Assert.Equal(documents.Sum(d => d.GetProperty("passages").GetInt64()), job.GetProperty("passages").GetInt64());
            await Uploads.WaitUntilGoneAsync(Path.Combine(store, ".uploads", id));
        }

        // The same files indexed by the CLI (a process as the server is: the same runtime settings, so the same
        // tokenization), in one clean run: the same passages, none twice.
        string clean = this._directory.Combine("clean");
        var (code, _, error) = await T5ragProcess.RunAsync(new Dictionary<string, string>(), null, "index", docs, "--store", clean, "--model", TestAssets.MiniLmDirectory);
        Assert.True(code == 0, error);
        var expected = Passages(clean, docs + "/");
        var recovered = Passages(store, string.Empty);
        Assert.Equal(expected.Count, recovered.Count);
        Assert.True(expected.Order(StringComparer.Ordinal).SequenceEqual(recovered.Order(StringComparer.Ordinal)), "only clean: " + string.Join("\n", expected.Except(recovered)) + "\nonly recovered: " + string.Join("\n", recovered.Except(expected)));
    }

    [Fact]
    public async Task UploadsStillBeingStagedCountAgainstTheQueueBound()
    {
        string store = this._directory.Combine("bounded");
        string uploads = Path.Combine(store, ".uploads");
        using var server = await ServeProcess.StartAsync(store, environment: new Dictionary<string, string> { ["T5Rag__MaxQueuedJobs"] = "1" });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        using var content = new StalledUpload("half.md", new string('x', 100_000));
        var sending = server.Client.PostAsync("/api/collections/default/documents", content, stop.Token);
        var clock = Stopwatch.StartNew();
        while (!Directory.Exists(uploads) || !Directory.EnumerateFiles(uploads, "0.md", SearchOption.AllDirectories).Any())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), $"nothing staged in a minute: {server.Output}");
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        // One upload on its way fills a queue of one: the next is refused before its bytes are read.
        var (second, refused) = await Uploads.PostAsync(server.Client, "default", [Uploads.Text("b.md", "Vectors live in collections.")]);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, second.StatusCode);
        Assert.Contains("MaxQueuedJobs", refused.GetProperty("detail").GetString(), StringComparison.Ordinal);

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => sending);
        await Uploads.WaitUntilGoneAsync(uploads);
        Assert.Equal("succeeded", (await Uploads.IndexAsync(server.Client, "default", [Uploads.Text("b.md", "Vectors live in collections.")])).GetProperty("state").GetString());
    }

    [Fact]
    public async Task KilledDuringAnUploadNothingHalfStagedRemainsAndTheRestartedServerWorks()
    {
        string store = this._directory.Combine("served");
        string uploads = Path.Combine(store, ".uploads");
        using (var server = await ServeProcess.StartAsync(store))
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            using var content = new StalledUpload("half.md", new string('x', 200_000));
            var sending = server.Client.PostAsync("/api/collections/default/documents", content, stop.Token);

            // The file is being staged (its folder and file exist) when the server dies.
            var clock = Stopwatch.StartNew();
            while (!Directory.Exists(uploads) || !Directory.EnumerateFiles(uploads, "0.md", SearchOption.AllDirectories).Any())
            {
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), $"nothing staged in a minute: {server.Output}");
                await Task.Delay(10, TestContext.Current.CancellationToken);
            }

            server.Kill();
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<Exception>(() => sending);
        }

        Assert.NotEmpty(Directory.EnumerateDirectories(uploads));
        using (var restarted = await ServeProcess.StartAsync(store))
        {
            await Uploads.WaitUntilGoneAsync(uploads);
            Assert.Equal(0L, ServiceScalar(store, "SELECT count(*) FROM jobs"));
            var job = await Uploads.IndexAsync(restarted.Client, "default", [Uploads.Text("whole.md", "# Whole\n\nThe restarted server indexes this upload about lighthouses.")]);
            Assert.Equal("succeeded", job.GetProperty("state").GetString());
            Assert.Equal(["whole.md"], await Uploads.SearchAsync(restarted.Client, "default", new { query = "lighthouses", mode = "keyword" }));
            Assert.Equal(["whole.md"], (await Uploads.DocumentsAsync(restarted.Client, "default")).Select(d => d.GetProperty("document_id").GetString()));
        }
    }

    /// <summary>Each passage as "file name|chunk|content hash|vector bytes", its document id less <paramref name="prefix"/>; after checking the full-text index agrees.</summary>
    private static List<string> Passages(string store, string prefix)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(store, "default", "collection.db")};Pooling=False");
        connection.Open();
        using (var check = connection.CreateCommand())
        {
            check.CommandText = "INSERT INTO passages_fts(passages_fts) VALUES ('integrity-check')";
            check.ExecuteNonQuery();
        }

        using var command = connection.CreateCommand();
        command.CommandText = "SELECT document_id, chunk_index, content_hash, length(vector) FROM passages";
        using var reader = command.ExecuteReader();
        var passages = new List<string>();
        while (reader.Read())
        {
            string document = reader.GetString(0);
            Assert.StartsWith(prefix, document, StringComparison.Ordinal);
            passages.Add($"{document[prefix.Length..]}|{reader.GetInt32(1)}|{reader.GetString(2)}|{reader.GetInt64(3)}");
        }

        return passages;
    }

    /// <summary>What <paramref name="sql"/> (with <c>$id</c> = <paramref name="id"/>) reads from the service database.</summary>
    private static object? ServiceScalar(string store, string sql, string id = "")
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(store, "service.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$id", id);
        return command.ExecuteScalar();
    }
}
