using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Tests.Cli;
using T5Gemma2.Rag.Tests.Conversion;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Hub;

/// <summary>t5rag model pull of sentence-transformers repositories from the loopback Hub: the module files come too, a pickle-only Dense is refused before the weights.</summary>
public sealed class SentenceTransformersPullTests(SharedTinySentenceTransformers layouts)
{
    private const string Repository = "t5rag-tests/tiny-embeddinggemma";

    [Fact]
    public async Task PullFetchesModulesAndTheirFoldersAndConverts()
    {
        using var temp = new TempDirectory();
        string repository = ModelDirectoryCopy.AllFiles(layouts.EmbeddingGemmaCheckpoint, temp.Combine("repo"));
        // Files a real repository has that conversion does not need.
        File.WriteAllText(Path.Combine(repository, "README.md"), "# model card");
        temp.Write("repo/onnx/model.onnx", "not ours");
        using var hub = new LocalHubServer(Repository, repository);

        var (code, _, error) = await CliRunner.RunAsync("model", "pull", Repository, "--endpoint", hub.Endpoint, "--cache-dir", temp.Combine("cache"), "--out", temp.Combine("model"));

        Assert.True(code == ExitCodes.Success, error);
        string cached = temp.Combine("cache", "t5rag-tests-tiny-embeddinggemma--main");
        foreach (string file in new[] { "modules.json", "config_sentence_transformers.json", "sentence_bert_config.json", "1_Pooling/config.json", "2_Dense/config.json", "2_Dense/model.safetensors", "3_Dense/config.json", "3_Dense/model.safetensors" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(repository, file)), File.ReadAllBytes(Path.Combine(cached, file)));
            Assert.True(File.Exists(temp.Combine("model", file)), $"the converted model lacks {file}");
        }

        Assert.False(File.Exists(Path.Combine(cached, "README.md")));
        Assert.False(Directory.Exists(Path.Combine(cached, "onnx")));
        var embedded = await CliRunner.RunAsync("embed", "--model", temp.Combine("model"), "pulled");
        Assert.Equal(ExitCodes.Success, embedded.ExitCode);
        Assert.Contains("dimensions: 16", embedded.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PickleOnlyDenseIsOneLineBeforeTheWeightsAreDownloaded()
    {
        using var temp = new TempDirectory();
        string repository = ModelDirectoryCopy.AllFiles(layouts.EmbeddingGemmaCheckpoint, temp.Combine("repo"));
        File.Move(Path.Combine(repository, "3_Dense", "model.safetensors"), Path.Combine(repository, "3_Dense", "pytorch_model.bin"));
        using var hub = new LocalHubServer(Repository, repository);

        var (code, _, error) = await CliRunner.RunAsync("model", "pull", Repository, "--endpoint", hub.Endpoint, "--cache-dir", temp.Combine("cache"), "--out", temp.Combine("model"));

        Assert.Equal(ExitCodes.InputError, code);
        string failure = Assert.Single(error.TrimEnd().Split('\n'), line => line.StartsWith("t5rag: ", StringComparison.Ordinal));
        Assert.Contains("3_Dense/pytorch_model.bin", failure, StringComparison.Ordinal);
        Assert.False(File.Exists(temp.Combine("cache", "t5rag-tests-tiny-embeddinggemma--main", "model.safetensors")), "the backbone's weights were downloaded anyway");
        Assert.DoesNotContain(hub.Requests, r => r.Path.EndsWith(".bin", StringComparison.Ordinal));
        Assert.False(Directory.Exists(temp.Combine("model")));
    }
}
