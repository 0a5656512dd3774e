using System.Numerics.Tensors;
using System.Text.Json;
using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Cli;

/// <summary>
/// An option no command knows is a usage error that names it and the nearest real option, on every command; after
/// "--" a text that begins with dashes is a text.
/// </summary>
public sealed class UnknownOptionTests(SharedGemmaTokenizer shared)
{
    [Fact]
    public async Task EmbedRefusesAnUnknownOptionInsteadOfEmbeddingIt()
    {
        var (code, output, error) = await CliRunner.RunAsync("embed", "--model", TestAssets.MiniLmDirectory, "--bogus-flag", "x");

        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Equal("", output);
        Assert.StartsWith("t5rag: unknown option --bogus-flag for 't5rag embed'", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task IndexSuggestsTheOptionItNearlyMatchesAndReadsNoFile()
    {
        using var temp = new TempDirectory();
        string file = temp.Combine("a.txt");
        await File.WriteAllTextAsync(file, "a passage", TestContext.Current.CancellationToken);
        string store = temp.Combine("store");

        var (code, output, error) = await CliRunner.RunAsync("index", file, "--chunk-token", "100", "--model", TestAssets.MiniLmDirectory, "--store", store);

        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Equal("", output);
        Assert.StartsWith("t5rag: unknown option --chunk-token; did you mean --chunk-tokens?", error, StringComparison.Ordinal);
        Assert.DoesNotContain("not found", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(store), "the store was created although the command line was refused");
    }

    [Theory]
    [InlineData("search|q|--topp|3|--mode|keyword", "--topp", "--top")]
    [InlineData("generate|--model|absent-model|--max-new-token|3|hi", "--max-new-token", "--max-new-tokens")]
    [InlineData("model|convert|--weight|int4|in|out", "--weight", "--weights")]
    [InlineData("bench|cancel|--model|absent-model|--run|3", "--run", "--runs")]
    [InlineData("ask|question|--Budget=100", "--Budget", "--budget")]
    [InlineData("collections|list|--stor|somewhere", "--stor", "--store")]
    public async Task EveryCommandNamesTheUnknownOptionAndTheNearestRealOne(string commandLine, string unknown, string nearest)
    {
        var (code, output, error) = await CliRunner.RunAsync(commandLine.Split('|'));

        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Equal("", output);
        Assert.StartsWith($"t5rag: unknown option {unknown}; did you mean {nearest}?", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AfterDoubleDashATextThatBeginsWithDashesIsEmbedded()
    {
        var (code, output, error) = await CliRunner.RunAsync("embed", "--model", TestAssets.MiniLmDirectory, "--json", "--", "--not an option");

        Assert.True(code == ExitCodes.Success, error);
        float[] vector = Assert.Single(JsonSerializer.Deserialize<float[][]>(output)!);
        using var generator = OnnxEmbeddingGenerator.Create(TestAssets.MiniLmDirectory);
        var direct = (await generator.GenerateAsync(["--not an option"], cancellationToken: TestContext.Current.CancellationToken))[0].Vector;
        Assert.True(TensorPrimitives.CosineSimilarity(vector, direct.Span) > 0.9999f, "the CLI embedded something other than the text after --");
    }

    [Fact]
    public async Task AfterDoubleDashAnOptionNameIsATextNotTheOption()
    {
        var (code, output, error) = await CliRunner.RunAsync("tokenize", "--tokenizer", TestAssets.GemmaTokenizerDirectory, "--", "--bos");

        Assert.True(code == ExitCodes.Success, error);
        var expected = shared.Tokenizer.EncodeToIds("--bos", addBeginningOfSentence: false, addEndOfSentence: false);
        Assert.Equal(expected, JsonSerializer.Deserialize<int[]>(output.Split('\n')[0]));
    }

    [Fact]
    public async Task ANegativeNumberIsATextNotAnOption()
    {
        var (code, output, error) = await CliRunner.RunAsync("tokenize", "--tokenizer", TestAssets.GemmaTokenizerDirectory, "-5");

        Assert.True(code == ExitCodes.Success, error);
        Assert.Equal(shared.Tokenizer.EncodeToIds("-5", addBeginningOfSentence: false, addEndOfSentence: false), JsonSerializer.Deserialize<int[]>(output.Split('\n')[0]));
    }

    [Theory]
    [InlineData("--chunk-token", "--chunk-tokens")]
    [InlineData("--TOP", "--top")]
    [InlineData("--bogus-flag", null)]
    public void NearestIsWithinAThirdOfTheName(string name, string? expected) =>
        Assert.Equal(expected, UnknownOptions.Nearest(name, ["--chunk-tokens", "--top", "--json", "--model"]));
}
