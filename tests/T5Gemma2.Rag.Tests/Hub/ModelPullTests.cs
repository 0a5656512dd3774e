using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Encoder.Hub;
using T5Gemma2.Rag.Tests.Cli;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Hub;

/// <summary>t5rag model pull against a loopback server with the Hub's URL layout: download, resume, checks, refusals.</summary>
public sealed class ModelPullTests(SharedTinyT5Gemma2 tiny)
{
    private const string Repository = "t5rag-tests/tiny-t5gemma2";

    [Fact]
    public async Task PullDownloadsChecksAndConverts()
    {
        using var temp = new TempDirectory();
        using var hub = new LocalHubServer(Repository, tiny.CheckpointDirectory);

        var (code, output, error) = await CliRunner.RunAsync("model", "pull", Repository, "--endpoint", hub.Endpoint, "--cache-dir", temp.Combine("cache"), "--out", temp.Combine("model"));

        Assert.True(code == ExitCodes.Success, error);
        Assert.Contains(LocalHubServer.Commit[..12], output, StringComparison.Ordinal);
        string cached = temp.Combine("cache", "t5rag-tests-tiny-t5gemma2--main");
        Assert.Equal(File.ReadAllBytes(Path.Combine(tiny.CheckpointDirectory, "model.safetensors")), File.ReadAllBytes(Path.Combine(cached, "model.safetensors")));
        Assert.True(File.Exists(temp.Combine("model", "onnx", "encoder_model.onnx")));
        var embedded = await CliRunner.RunAsync("embed", "--model", temp.Combine("model"), "pulled");
        Assert.Equal(ExitCodes.Success, embedded.ExitCode);
    }

    [Fact]
    public async Task InterruptedDownloadResumesWithARange()
    {
        using var temp = new TempDirectory();
        using var hub = new LocalHubServer(Repository, tiny.CheckpointDirectory);
        using var client = new HuggingFaceHubClient(new HuggingFaceHubOptions { Endpoint = new Uri(hub.Endpoint), Token = null });
        byte[] full = File.ReadAllBytes(Path.Combine(tiny.CheckpointDirectory, "model.safetensors"));
        string destination = temp.Combine("model.safetensors");
        var (commit, files) = await client.ListFilesAsync(Repository, "main", TestContext.Current.CancellationToken);
        var weights = files.Single(f => f.Path == "model.safetensors");
        string partial = $"{destination}.{weights.Sha256![..12]}.incomplete";
        File.WriteAllBytes(partial, full[..(full.Length / 3)]);

        await client.DownloadAsync(Repository, commit, weights, destination, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(full, File.ReadAllBytes(destination));
        Assert.False(File.Exists(partial));
        Assert.Contains(("model.safetensors", (long)(full.Length / 3)), hub.Requests);
    }

    [Theory]
    [InlineData(true, false)]  // the server ignores ranges: the whole file comes again and replaces the partial one
    [InlineData(false, true)]  // the partial file is longer than the file: 416, then a fresh download
    public async Task ResumeFallsBackToAFullDownload(bool ignoreRange, bool partialTooLong)
    {
        using var temp = new TempDirectory();
        using var hub = new LocalHubServer(Repository, tiny.CheckpointDirectory) { IgnoreRange = ignoreRange };
        using var client = new HuggingFaceHubClient(new HuggingFaceHubOptions { Endpoint = new Uri(hub.Endpoint), Token = null });
        byte[] full = File.ReadAllBytes(Path.Combine(tiny.CheckpointDirectory, "model.safetensors"));
        string destination = temp.Combine("model.safetensors");
        var (commit, files) = await client.ListFilesAsync(Repository, "main", TestContext.Current.CancellationToken);
        var weights = files.Single(f => f.Path == "model.safetensors") with { Size = null }; // as if the Hub listed no size
        File.WriteAllBytes($"{destination}.{weights.Sha256![..12]}.incomplete", partialTooLong ? [.. full, .. full] : full[..1000]);

        await client.DownloadAsync(Repository, commit, weights, destination, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(full, File.ReadAllBytes(destination));
    }

    [Fact]
    public async Task CorruptedContentIsRejectedAndNotKept()
    {
        using var temp = new TempDirectory();
        using var hub = new LocalHubServer(Repository, tiny.CheckpointDirectory) { CorruptFile = "model.safetensors" };

        var (code, _, error) = await CliRunner.RunAsync("model", "pull", Repository, "--endpoint", hub.Endpoint, "--cache-dir", temp.Combine("cache"), "--out", temp.Combine("model"));

        Assert.Equal(ExitCodes.Unavailable, code);
        Assert.Contains("sha256", error, StringComparison.Ordinal);
        string cached = temp.Combine("cache", "t5rag-tests-tiny-t5gemma2--main");
        Assert.False(File.Exists(Path.Combine(cached, "model.safetensors")));
        Assert.Empty(Directory.EnumerateFiles(cached, "*.incomplete"));
        Assert.False(Directory.Exists(temp.Combine("model")));
    }

    [Fact]
    public async Task GatedModelsNeedAToken()
    {
        using var temp = new TempDirectory();
        using var hub = new LocalHubServer(Repository, tiny.CheckpointDirectory) { RequiredToken = "hf_test_token" };
        using var withoutToken = new HuggingFaceHubClient(new HuggingFaceHubOptions { Endpoint = new Uri(hub.Endpoint), Token = null });
        using var withToken = new HuggingFaceHubClient(new HuggingFaceHubOptions { Endpoint = new Uri(hub.Endpoint), Token = "hf_test_token" });

        var refused = await Assert.ThrowsAsync<HubException>(() => withoutToken.ListFilesAsync(Repository, "main", TestContext.Current.CancellationToken));
        var (_, files) = await withToken.ListFilesAsync(Repository, "main", TestContext.Current.CancellationToken);

        Assert.Contains("HF_TOKEN", refused.Message, StringComparison.Ordinal);
        Assert.Contains(files, f => f.Path == "config.json");
    }

    [Fact]
    public async Task UnreachableHubIsOneLine()
    {
        using var temp = new TempDirectory();
        string closed;
        using (var hub = new LocalHubServer(Repository, tiny.CheckpointDirectory))
        {
            closed = hub.Endpoint; // stopped when disposed: nothing listens there any more
        }

        var (code, _, error) = await CliRunner.RunAsync("model", "pull", Repository, "--endpoint", closed, "--cache-dir", temp.Combine("cache"), "--out", temp.Combine("model"));

        // Progress lines aside, the failure is one line.
        string failure = Assert.Single(error.TrimEnd().Split('\n'), line => line.StartsWith("t5rag: ", StringComparison.Ordinal));
        Assert.Equal(ExitCodes.Unavailable, code);
        Assert.Contains("cannot reach", failure, StringComparison.Ordinal);
    }
}
