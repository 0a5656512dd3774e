using System.Text.Json;
using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Cli;

/// <summary>The t5rag commands of the foundation issue, end to end on the real tokenizer and model.</summary>
public sealed class CliCommandTests(SharedGemmaTokenizer shared)
{
    [Fact]
    public async Task TokenizePrintsIdsAndCount()
    {
        var (code, output, _) = await CliRunner.RunAsync("tokenize", "--tokenizer", TestAssets.GemmaTokenizerDirectory, "--bos", "Hello world, 東京 🙂");

        string[] lines = output.TrimEnd().Split('\n');
        var expected = shared.Tokenizer.EncodeToIds("Hello world, 東京 🙂", addBeginningOfSentence: true, addEndOfSentence: false);
        Assert.Equal(ExitCodes.Success, code);
        Assert.Equal(expected, JsonSerializer.Deserialize<int[]>(lines[0]));
        Assert.Equal($"{expected.Count} tokens", lines[1]);
    }

    [Fact]
    public async Task TokenizeJsonlKeepsOrderAndReportsBadLines()
    {
        string stdin = "{\"text\": \"first line\"}\nnot json\n{\"other\": 1}\n{\"text\": \"fourth — ✓\"}\n";

        var (code, output, error) = await CliRunner.RunWithInputAsync(stdin, "tokenize", "--tokenizer", TestAssets.GemmaTokenizerJson, "--jsonl");

        string[] lines = output.TrimEnd().Split('\n');
        Assert.Equal(ExitCodes.PartialFailure, code);
        Assert.Equal(4, lines.Length);
        Assert.Equal(shared.Tokenizer.EncodeToIds("first line", addBeginningOfSentence: false, addEndOfSentence: false), JsonDocument.Parse(lines[0]).RootElement.GetProperty("ids").Deserialize<int[]>());
        Assert.True(JsonDocument.Parse(lines[1]).RootElement.TryGetProperty("error", out _));
        Assert.True(JsonDocument.Parse(lines[2]).RootElement.TryGetProperty("error", out _));
        Assert.Equal(shared.Tokenizer.EncodeToIds("fourth — ✓", addBeginningOfSentence: false, addEndOfSentence: false), JsonDocument.Parse(lines[3]).RootElement.GetProperty("ids").Deserialize<int[]>());
        Assert.Contains("stdin line 2", error, StringComparison.Ordinal);
        Assert.Contains("stdin line 3", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenizeJsonlReadsLoneSurrogateEscapesAsReplacementCharacters()
    {
        string stdin = "{\"text\": \"a\\ud800b\"}\n";

        var (code, output, _) = await CliRunner.RunWithInputAsync(stdin, "tokenize", "-t", TestAssets.GemmaTokenizerJson, "--jsonl");

        Assert.Equal(ExitCodes.Success, code);
        Assert.Equal(shared.Tokenizer.EncodeToIds("a\uFFFDb", addBeginningOfSentence: false, addEndOfSentence: false), JsonDocument.Parse(output).RootElement.GetProperty("ids").Deserialize<int[]>());
    }

    [Fact]
    public async Task TokenizeWithAModelDirectoryUsesItsWordPieceTokenizer()
    {
        var (code, output, _) = await CliRunner.RunAsync("tokenize", "-t", TestAssets.MiniLmDirectory, "--bos", "A man is eating food.");

        Assert.Equal(ExitCodes.Success, code);
        Assert.Equal("[101,1037,2158,2003,5983,2833,1012,102]", output.Split('\n')[0]);
    }

    [Fact]
    public async Task EmbedPrintsDimensionAndCosineMatrix()
    {
        var (code, output, _) = await CliRunner.RunAsync("embed", "--model", TestAssets.MiniLmDirectory, "A man is eating food.", "A man is eating a piece of bread.");

        Assert.Equal(ExitCodes.Success, code);
        Assert.Contains("dimensions: 384", output, StringComparison.Ordinal);
        Assert.Contains("0.755", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmbedJsonPrintsTheVectors()
    {
        var (code, output, _) = await CliRunner.RunAsync("embed", "-m", TestAssets.MiniLmDirectory, "--json", "one", "two", "three");

        var vectors = JsonSerializer.Deserialize<float[][]>(output)!;
        Assert.Equal(ExitCodes.Success, code);
        Assert.Equal(3, vectors.Length);
        Assert.All(vectors, v => Assert.Equal(384, v.Length));
    }

    [Fact]
    public async Task MissingModelIsOneLineAndExitCodeThree()
    {
        var (code, output, error) = await CliRunner.RunAsync("embed", "--model", "/definitely/not/here", "x");

        Assert.Equal(ExitCodes.InputError, code);
        Assert.Equal("", output);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains("/definitely/not/here", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForeignTokenizerIsOneLineAndExitCodeThree()
    {
        using var temp = new TempDirectory();
        string path = temp.Write("tokenizer.json", """{"model": {"type": "WordPiece", "vocab": {"a": 0}}}""");

        var (code, _, error) = await CliRunner.RunAsync("tokenize", "-t", path, "x");

        Assert.Equal(ExitCodes.InputError, code);
        Assert.Contains("model.type", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Theory]
    [InlineData("embed")]
    [InlineData("tokenize", "--no-such-option")]
    [InlineData("no-such-command")]
    public async Task UsageErrorsExitWithTwo(params string[] args)
    {
        var (code, _, error) = await CliRunner.RunAsync(args);

        Assert.Equal(ExitCodes.UsageError, code);
        Assert.StartsWith("t5rag: ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AThreadCountBelowOneIsAUsageError()
    {
        var (code, _, error) = await CliRunner.RunAsync("embed", "-m", TestAssets.MiniLmDirectory, "--threads", "0", "a text");

        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Contains("--threads 0", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryBenchmarkSaysFirstWhereAndHowItRan()
    {
        using var temp = new TempDirectory();
        string corpus = temp.Write("passages.jsonl", string.Join('\n', Enumerable.Range(0, 24).Select(i => $$"""{"text": "passage number {{i}} about {{(i % 2 == 0 ? "retrieval" : "answering")}}"}""")));

        var (code, output, error) = await CliRunner.RunAsync("bench", "embed", "-m", TestAssets.MiniLmDirectory, "--corpus", corpus, "--passages", "20", "--threads", "1");

        Assert.True(code == ExitCodes.Success, error);
        string[] lines = output.Split('\n');
        Assert.StartsWith("machine: ", lines[0], StringComparison.Ordinal);
        Assert.Contains($"{Environment.ProcessorCount} cores usable", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("threads: 1 ", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("runtime: ONNX Runtime 1.", lines[2], StringComparison.Ordinal);
        Assert.Equal($"command: t5rag bench embed -m {TestAssets.MiniLmDirectory} --corpus {corpus} --passages 20 --threads 1", lines[3].TrimEnd());
    }

    [Fact]
    public async Task TokenizerBenchRefusesTooLittleText()
    {
        using var temp = new TempDirectory();
        string corpus = temp.Write("small.txt", "only a few words");

        var (code, _, error) = await CliRunner.RunAsync("bench", "tokenizer", "-t", TestAssets.GemmaTokenizerJson, "--corpus", corpus);

        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Contains("at least 5.0 MB", error, StringComparison.Ordinal);
    }
}
