using System.Text.Json.Nodes;
using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Cli;

/// <summary>t5rag model create-random --layout and convert of the sentence-transformers layouts, as a user runs them.</summary>
public sealed class ModelLayoutCommandTests
{
    [Theory]
    [InlineData("embeddinggemma", "tiny")]
    [InlineData("st-t5gemma2-encoder", "tiny")]
    public async Task CreateRandomConvertAndEmbedWorkForEachLayout(string layout, string preset)
    {
        using var temp = new TempDirectory();
        string checkpoint = temp.Combine("hf"), converted = temp.Combine("onnx");

        var created = await CliRunner.RunAsync("model", "create-random", "--layout", layout, "--preset", preset, "--seed", "5", "--tokenizer", TestAssets.GemmaTokenizerDirectory, checkpoint);
        var conversion = await CliRunner.RunAsync("model", "convert", checkpoint, converted, "--weights", "int8");
        var embedded = await CliRunner.RunAsync("embed", "--model", converted, "first text", "second text");

        Assert.True(created.ExitCode == ExitCodes.Success, created.Error);
        Assert.True(File.Exists(Path.Combine(checkpoint, "modules.json")));
        Assert.True(conversion.ExitCode == ExitCodes.Success, conversion.Error);
        Assert.True(embedded.ExitCode == ExitCodes.Success, embedded.Error);
        Assert.Contains("dimensions: 16", embedded.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--layout", "bert", "--preset", "tiny", "\"bert\"")]
    [InlineData("--layout", "embeddinggemma", "--preset", "270m-270m", "\"270m-270m\"")]
    [InlineData("--layout", "t5gemma2", "--preset", "300m", "\"300m\"")]
    public async Task UnknownLayoutOrAPresetOfAnotherLayoutIsAUsageError(string layoutOption, string layout, string presetOption, string preset, string named)
    {
        using var temp = new TempDirectory();

        var (code, _, error) = await CliRunner.RunAsync("model", "create-random", layoutOption, layout, presetOption, preset, temp.Combine("x"));

        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains(named, error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(temp.Combine("x")));
    }

    [Fact]
    public async Task ConvertingACausalGemma3IsAnInputErrorOfOneLine()
    {
        using var temp = new TempDirectory();
        string checkpoint = temp.Combine("hf");
        var created = await CliRunner.RunAsync("model", "create-random", "--layout", "embeddinggemma", "--preset", "tiny", checkpoint);
        Assert.Equal(ExitCodes.Success, created.ExitCode);
        string path = Path.Combine(checkpoint, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(path))!;
        config["use_bidirectional_attention"] = false;
        File.WriteAllText(path, config.ToJsonString());

        var (code, _, error) = await CliRunner.RunAsync("model", "convert", checkpoint, temp.Combine("out"));

        Assert.Equal(ExitCodes.InputError, code);
        string failure = Assert.Single(error.TrimEnd().Split('\n'), line => line.StartsWith("t5rag: ", StringComparison.Ordinal));
        Assert.Contains("use_bidirectional_attention", failure, StringComparison.Ordinal);
        Assert.False(Directory.Exists(temp.Combine("out")));
    }
}
