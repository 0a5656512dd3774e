using System.Text.Json;
using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Tests.Images;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Cli;

/// <summary><c>t5rag index</c> and <c>t5rag search</c> on image documents with the tiny T5Gemma 2: the summary's image counts, and image passages in the results.</summary>
public sealed class ImageIndexCommandTests(SharedTinyT5Gemma2 tiny)
{
    [Fact]
    public async Task IndexCountsImagePassagesAndSearchShowsThemWithKindSourceAndPage()
    {
        using var temp = new TempDirectory();
        string docs = temp.Combine("docs"), store = temp.Combine("store");
        Directory.CreateDirectory(docs);
        File.Copy(TestImages.PathOf("photo-640x480.png"), Path.Combine(docs, "photo.png"));
        File.Copy(TestImages.PathOf("rgb-17x9.png"), Path.Combine(docs, "icon.png"));
        File.WriteAllBytes(Path.Combine(docs, "report.pdf"), ImageDocuments.Pdf());

        var (code, output, error) = await CliRunner.RunAsync("index", docs, "--store", store, "--model", tiny.ConvertedDirectory);
        var (searchCode, results, _) = await CliRunner.RunAsync("search", "otter", "--mode", "keyword", "--store", store, "--model", tiny.ConvertedDirectory);
        var (jsonCode, json, _) = await CliRunner.RunAsync("search", "otter", "--mode", "keyword", "--store", store, "--model", tiny.ConvertedDirectory, "--json");

        Assert.True(code == ExitCodes.Success, error);
        Assert.Contains("images: 3 image passages new, 2 too small (under 32 px a side) skipped, 0 left out", output, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Success, searchCode);
        Assert.Contains($"{Path.Combine(docs, "report.pdf")}  p. 1  [image image/png]", results, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Success, jsonCode);
        var hits = JsonDocument.Parse(json).RootElement.EnumerateArray().ToList();
        var image = Assert.Single(hits, h => h.GetProperty("kind").GetString() == "image");
        Assert.Equal((1, "image/png", ImageDocuments.PageOneText), (image.GetProperty("page").GetInt32(), image.GetProperty("media_type").GetString(), image.GetProperty("text").GetString()));
    }
}
