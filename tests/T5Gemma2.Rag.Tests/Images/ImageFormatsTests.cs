using T5Gemma2.Rag.Encoder.Images;

namespace T5Gemma2.Rag.Tests.Images;

public sealed class ImageFormatsTests
{
    [Fact]
    public void EveryFileOfTheSetSniffsAsItsExtensionSays()
    {
        var expected = new Dictionary<string, string>
        {
            [".png"] = "image/png", [".jpg"] = "image/jpeg", [".webp"] = "image/webp", [".gif"] = "image/gif", [".bmp"] = "image/bmp",
        };
        var files = Directory.GetFiles(TestImages.Folder);
        Assert.True(files.Length >= 16);
        Assert.All(files, file =>
        {
            Assert.True(ImageFormats.IsImageFile(file), file);
            Assert.Equal(expected[Path.GetExtension(file)], ImageFormats.Sniff(File.ReadAllBytes(file)));
        });
    }

    [Theory]
    [InlineData("a.PNG", true)]
    [InlineData("b.Jpeg", true)]
    [InlineData("dir/c.webp", true)]
    [InlineData("d.tiff", false)]
    [InlineData("e.png.txt", false)]
    [InlineData("png", false)]
    public void IsImageFileGoesByTheExtensionInAnyCase(string path, bool image) => Assert.Equal(image, ImageFormats.IsImageFile(path));

    [Fact]
    public void TextAndTruncatedSignaturesAreNoImage()
    {
        Assert.Null(ImageFormats.Sniff([]));
        Assert.Null(ImageFormats.Sniff("BMW is a car, not a bitmap"u8));
        Assert.Null(ImageFormats.Sniff("RIFF\0\0\0\0WAVE"u8));
        Assert.Null(ImageFormats.Sniff([0x89, 0x50, 0x4E, 0x47]));
        Assert.Null(ImageFormats.Sniff("%PDF-1.7"u8));
    }
}
