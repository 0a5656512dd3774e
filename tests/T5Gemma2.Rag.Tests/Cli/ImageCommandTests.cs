using System.Text.Json;
using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Encoder.Conversion;
using T5Gemma2.Rag.Tests.Images;
using T5Gemma2.Rag.Tests.Infrastructure;
using T5Gemma2.Rag.Tests.Pipeline;

namespace T5Gemma2.Rag.Tests.Cli;

/// <summary>`t5rag generate --image` and `t5rag ask --image` as a user runs them, with the tiny vision model, and their exit codes.</summary>
public sealed class ImageCommandTests(SharedTinyT5Gemma2 tiny) : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        this._directory.Dispose();
    }

    [Fact]
    public async Task GenerateAnswersOverImagesAndNamesABadImageOrATextOnlyModel()
    {
        var withImage = await CliRunner.RunAsync("generate", "--model", tiny.ConvertedDirectory, "--image", TestImages.PathOf("photo-640x480.png"), "--image", TestImages.PathOf("photo-512x384.webp"), "--max-new-tokens", "6", "What is shown?");
        var beams = await CliRunner.RunAsync("generate", "--model", tiny.ConvertedDirectory, "--image", TestImages.PathOf("photo-640x480.png"), "--beams", "2", "--max-new-tokens", "4", "What is shown?");
        Assert.True(withImage.ExitCode == ExitCodes.Success, withImage.Error);
        Assert.NotEmpty(withImage.Out.Trim());
        Assert.True(beams.ExitCode == ExitCodes.Success, beams.Error);

        string broken = this._directory.Combine("broken.png");
        File.WriteAllBytes(broken, File.ReadAllBytes(TestImages.PathOf("photo-640x480.png"))[..200]);
        string text = this._directory.Combine("notes.png");
        File.WriteAllText(text, "not an image at all");
        foreach (string bad in new[] { broken, text, this._directory.Combine("missing.jpg") })
        {
            var (code, _, error) = await CliRunner.RunAsync("generate", "--model", tiny.ConvertedDirectory, "--image", bad, "What is shown?");
            Assert.Equal(ExitCodes.InputError, code);
            Assert.Contains(bad, error, StringComparison.Ordinal);
            Assert.Single(error.Trim().Split('\n'));
        }

        RandomCheckpoint.Create(T5Gemma2Preset.Tiny with { Vision = null }, 5, this._directory.Combine("hf"), TestAssets.GemmaTokenizerDirectory, TestContext.Current.CancellationToken);
        var textOnly = CheckpointConverter.Convert(this._directory.Combine("hf"), this._directory.Combine("text-only"), cancellationToken: TestContext.Current.CancellationToken).OutputDirectory;
        var refused = await CliRunner.RunAsync("generate", "--model", textOnly, "--image", TestImages.PathOf("photo-640x480.png"), "What is shown?");
        Assert.Equal(ExitCodes.UsageError, refused.ExitCode);
        Assert.Contains("text-only", refused.Error, StringComparison.Ordinal);
        Assert.Single(refused.Error.Trim().Split('\n'));
    }

    [Fact]
    public async Task AskPutsTheQuestionsImageIntoTheEncoderInput()
    {
        string docs = this._directory.Combine("docs");
        var records = TestCorpus.Records(4);
        TestCorpus.WriteMarkdown(docs, records);
        string store = this._directory.Combine("store");
        Assert.Equal(ExitCodes.Success, (await CliRunner.RunAsync("index", docs, "--store", store, "--model", TestAssets.MiniLmDirectory)).ExitCode);

        var (code, output, error) = await CliRunner.RunAsync("ask", records[1].Title, "--store", store, "--model", TestAssets.MiniLmDirectory, "--generator", tiny.ConvertedDirectory, "--image", TestImages.PathOf("diagram-300x1200.png"), "--max-new-tokens", "4", "--json", "--show-context");
        var (bad, _, badError) = await CliRunner.RunAsync("ask", records[1].Title, "--store", store, "--model", TestAssets.MiniLmDirectory, "--generator", tiny.ConvertedDirectory, "--image", this._directory.Combine("nowhere.png"));

        Assert.True(code == ExitCodes.Success, error);
        string context = JsonDocument.Parse(output).RootElement.GetProperty("context").GetString()!;
        int question = context.IndexOf($"Question: {records[1].Title}", StringComparison.Ordinal);
        int image = context.IndexOf("<start_of_image>", StringComparison.Ordinal);
        Assert.True(question >= 0 && image > question, context);
        Assert.Equal(1, context.Split("<start_of_image>").Length - 1);
        Assert.Equal(ExitCodes.InputError, bad);
        Assert.Contains("nowhere.png", badError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BenchVisionReportsTheTowerBesideItsLimitAndTheFirstTokenWithAnImage()
    {
        var (code, output, error) = await CliRunner.RunAsync("bench", "vision", "--model", tiny.ConvertedDirectory, "--images", "2", "--text-tokens", "32", "--threads", "1");

        Assert.True(code == ExitCodes.Success, error);
        Assert.Contains("threads: 1 (ONNX Runtime intra-op", output, StringComparison.Ordinal);
        Assert.Contains("GEMM limit:", output, StringComparison.Ordinal);
        Assert.Contains("GEMM ratio", output, StringComparison.Ordinal);
        Assert.Contains("one image + text", output, StringComparison.Ordinal);
        Assert.Contains("text alone", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AskPacksARetrievedImagePassageAsTheImageAndCitesIt()
    {
        string docs = this._directory.Combine("docs");
        Directory.CreateDirectory(docs);
        File.Copy(TestImages.PathOf("diagram-300x1200.png"), Path.Combine(docs, "wiring.png"));
        string store = this._directory.Combine("store");
        var indexed = await CliRunner.RunAsync("index", docs, "--store", store, "--model", tiny.ConvertedDirectory);
        Assert.True(indexed.ExitCode == ExitCodes.Success, indexed.Error);

        var (code, output, error) = await CliRunner.RunAsync("ask", "How is the pump wired?", "--store", store, "--model", tiny.ConvertedDirectory, "--generator", tiny.ConvertedDirectory, "--max-new-tokens", "4", "--json", "--show-context");

        Assert.True(code == ExitCodes.Success, error);
        var answer = JsonDocument.Parse(output).RootElement;
        string context = answer.GetProperty("context").GetString()!;
        var citation = Assert.Single(answer.GetProperty("citations").EnumerateArray());
        Assert.EndsWith("wiring.png", citation.GetProperty("source").GetString(), StringComparison.Ordinal);
        int header = context.IndexOf("[1] ", StringComparison.Ordinal);
        int image = context.IndexOf("<start_of_image>", StringComparison.Ordinal);
        Assert.True(header >= 0 && image > header, context);
        Assert.Equal(1, context.Split("<start_of_image>").Length - 1);
        Assert.Equal(1, context.Split("<end_of_image>").Length - 1);
    }
}
