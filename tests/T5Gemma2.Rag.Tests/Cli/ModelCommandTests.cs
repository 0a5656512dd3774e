using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Cli;

/// <summary>t5rag model create-random | convert, then embed on the result, as a user runs them.</summary>
public sealed class ModelCommandTests
{
    [Fact]
    public async Task CreateRandomConvertAndEmbedWorkEndToEnd()
    {
        using var temp = new TempDirectory();
        string checkpoint = temp.Combine("hf"), converted = temp.Combine("onnx");

        var created = await CliRunner.RunAsync("model", "create-random", "--preset", "tiny", "--seed", "3", "--tokenizer", TestAssets.GemmaTokenizerDirectory, checkpoint);
        var conversion = await CliRunner.RunAsync("model", "convert", checkpoint, converted, "--weights", "int8");
        var embedded = await CliRunner.RunAsync("embed", "--model", converted, "first text", "second text");
        var generated = await CliRunner.RunAsync("generate", "--model", converted, "a question");

        Assert.Equal(ExitCodes.Success, created.ExitCode);
        Assert.Equal(ExitCodes.Success, conversion.ExitCode);
        Assert.Contains("int8 weights", conversion.Out, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(converted, "onnx", "encoder_model.onnx")));
        Assert.True(File.Exists(Path.Combine(converted, "tokenizer.json")));
        Assert.Equal(ExitCodes.Success, embedded.ExitCode);
        Assert.Contains("dimensions: 16", embedded.Out, StringComparison.Ordinal);

        // int8 embeds but does not generate: no decoder graphs, and one line that says what to convert instead.
        Assert.False(File.Exists(Path.Combine(converted, "onnx", "decoder_model_merged.onnx")));
        Assert.Equal(ExitCodes.InputError, generated.ExitCode);
        Assert.Contains("--weights int4 or fp32", generated.Error, StringComparison.Ordinal);
        Assert.Single(generated.Error.TrimEnd().Split('\n'));
    }

    [Theory]
    [InlineData("model", "create-random", "--preset", "huge", "x")]
    [InlineData("model", "convert", "a", "b", "--weights", "int3")]
    public async Task UnsupportedValuesAreUsageErrorsNamingTheValue(params string[] args)
    {
        var (code, _, error) = await CliRunner.RunAsync(args);

        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains(args[3] == "huge" ? "\"huge\"" : "\"int3\"", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConvertingAMissingCheckpointIsAnInputError()
    {
        using var temp = new TempDirectory();

        var (code, _, error) = await CliRunner.RunAsync("model", "convert", temp.Combine("nothing"), temp.Combine("out"));

        Assert.Equal(ExitCodes.InputError, code);
        Assert.Contains("config.json", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(temp.Combine("out")));
    }
}
