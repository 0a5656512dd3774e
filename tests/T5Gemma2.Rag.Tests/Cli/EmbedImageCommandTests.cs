using System.Numerics.Tensors;
using System.Text.Json;
using Microsoft.Extensions.AI;
using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Cli;

/// <summary><c>t5rag embed --image</c> on the tiny T5Gemma 2 with its vision graph: vectors, the cosine matrix across images and texts, and bad images.</summary>
public sealed class EmbedImageCommandTests(SharedTinyT5Gemma2 tiny)
{
    [Fact]
    public async Task ImagesAndTextsAreEmbeddedInOneSpaceInCommandLineOrder()
    {
        using var temp = new TempDirectory();
        string png = temp.Combine("a.png"), jpeg = temp.Combine("b.jpg");
        File.WriteAllBytes(png, SeededImages.Png(28, 28, 1));
        File.WriteAllBytes(jpeg, SeededImages.Jpeg(50, 40, 2));

        var (code, output, error) = await CliRunner.RunAsync("embed", "-m", tiny.ConvertedDirectory, "--image", png, "--image", jpeg, "a caption", "--json");
        var (tableCode, table, _) = await CliRunner.RunAsync("embed", "-m", tiny.ConvertedDirectory, "--image", png, "--image", jpeg, "a caption");

        Assert.True(code == ExitCodes.Success, error);
        var vectors = JsonSerializer.Deserialize<float[][]>(output)!;
        Assert.Equal(3, vectors.Length);
        using var generator = OnnxEmbeddingGenerator.Create(tiny.ConvertedDirectory);
        var images = await generator.GenerateAsync([new DataContent(File.ReadAllBytes(png), "image/png"), new DataContent(File.ReadAllBytes(jpeg), "image/jpeg")], cancellationToken: TestContext.Current.CancellationToken);
        var text = await generator.GenerateAsync(["a caption"], cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(TensorPrimitives.CosineSimilarity(images[0].Vector.Span, vectors[0]) > 0.99999f);
        Assert.True(TensorPrimitives.CosineSimilarity(images[1].Vector.Span, vectors[1]) > 0.99999f);
        Assert.True(TensorPrimitives.CosineSimilarity(text[0].Vector.Span, vectors[2]) > 0.99999f);

        Assert.Equal(ExitCodes.Success, tableCode);
        Assert.Contains($"dimensions: {vectors[0].Length}", table, StringComparison.Ordinal);
        Assert.Contains("[0] image a.png", table, StringComparison.Ordinal);
        Assert.Contains("[1] image b.jpg", table, StringComparison.Ordinal);
        Assert.Contains("[2] a caption", table, StringComparison.Ordinal);
        string cosine = TensorPrimitives.CosineSimilarity(vectors[0], vectors[2]).ToString("F4", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains(cosine, table, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("missing.png", null)]
    [InlineData("empty.png", "")]
    [InlineData("notes.png", "just some text")]
    [InlineData("cut.png", "cut")]
    public async Task ABadImageIsOneLineNamingTheFileAndExitCodeThree(string name, string? content)
    {
        using var temp = new TempDirectory();
        string path = temp.Combine(name);
        if (content == "cut")
        {
            File.WriteAllBytes(path, SeededImages.Png(28, 28, 3).AsSpan(0, 60).ToArray());
        }
        else if (content is not null)
        {
            File.WriteAllText(path, content);
        }

        var (code, output, error) = await CliRunner.RunAsync("embed", "-m", tiny.ConvertedDirectory, "--image", path, "text");

        Assert.Equal(ExitCodes.InputError, code);
        Assert.Equal("", output);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains(path, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATextOnlyModelRefusesAnImageWithExitCodeTwo()
    {
        using var temp = new TempDirectory();
        string png = temp.Combine("a.png");
        File.WriteAllBytes(png, SeededImages.Png(28, 28, 4));

        var (code, output, error) = await CliRunner.RunAsync("embed", "-m", TestAssets.MiniLmDirectory, "--image", png);

        Assert.Equal(ExitCodes.UsageError, code);
        Assert.Equal("", output);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains("text-only", error, StringComparison.Ordinal);
    }
}
