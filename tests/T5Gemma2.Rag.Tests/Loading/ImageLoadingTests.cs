using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Indexer.Loading;
using T5Gemma2.Rag.Tests.Images;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Loading;

/// <summary>Images as the loaders find them: image files, PDF page images and Word pictures, with their nearby text and place; tiny and broken ones.</summary>
public sealed class ImageLoadingTests
{
    [Fact]
    public async Task AnImageFileIsADocumentOfOneImageAndAnIconIsSkipped()
    {
        using var temp = new TempDirectory();
        string photo = temp.Combine("photo.webp"), icon = temp.Combine("icon.png");
        File.Copy(TestImages.PathOf("photo-512x384.webp"), photo);
        File.Copy(TestImages.PathOf("rgb-17x9.png"), icon);
        var loader = DocumentLoaders.CreateDefault().ForFile(photo)!;

        var document = await LoaderAssert.LoadSingleAsync(loader, photo);
        var tiny = await LoaderAssert.LoadSingleAsync(loader, icon);

        Assert.IsType<ImageFileLoader>(loader);
        Assert.Equal(("photo.webp", ""), (document.Title, document.Text));
        var image = Assert.Single(document.Images);
        Assert.Equal("image/webp", image.Image.MediaType);
        Assert.Equal(File.ReadAllBytes(photo), image.Image.Data);
        Assert.Empty(tiny.Images);
        Assert.Equal(1, tiny.SkippedImages);
    }

    [Fact]
    public async Task AFileThatIsNoImageIsRefusedNamingIt()
    {
        using var temp = new TempDirectory();
        string fake = temp.Combine("fake.png");
        File.WriteAllText(fake, "plain words, no picture");

        var error = await Assert.ThrowsAsync<DocumentLoadException>(() => LoaderAssert.LoadSingleAsync(new ImageFileLoader(), fake));

        Assert.Contains(fake, error.Message, StringComparison.Ordinal);
        Assert.Contains("not a PNG, JPEG, WebP, GIF or BMP image", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PdfPageImagesKeepTheirPageAndThePagesText()
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("report.pdf");
        File.WriteAllBytes(path, ImageDocuments.Pdf());

        var document = await LoaderAssert.LoadSingleAsync(new PdfLoader(), path);

        Assert.Equal(2, document.Images.Count);
        Assert.Equal(1, document.SkippedImages); // the 17×9 icon
        Assert.Empty(document.ImageProblems);
        Assert.Equal((1, ImageDocuments.PageOneText, "image/png"), (document.Images[0].Page, document.Images[0].NearbyText, document.Images[0].Image.MediaType));
        Assert.Equal((2, ImageDocuments.PageTwoText, "image/jpeg"), (document.Images[1].Page, document.Images[1].NearbyText, document.Images[1].Image.MediaType));
        Assert.Equal(File.ReadAllBytes(TestImages.PathOf("exif6-320x240.jpg")), document.Images[1].Image.Data); // a JPEG is kept as stored
        Assert.Contains(ImageDocuments.PageOneText, document.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WordPicturesKeepTheirAltTextParagraphAndSection()
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("handbook.docx");
        ImageDocuments.Docx(path);

        var document = await LoaderAssert.LoadSingleAsync(new DocxLoader(), path);

        Assert.Equal(2, document.Images.Count);
        Assert.Equal(("Figures", "image/png"), (document.Images[0].SectionPath, document.Images[0].Image.MediaType));
        Assert.Equal($"{ImageDocuments.ChartAlt}\n{ImageDocuments.ChartParagraph}", document.Images[0].NearbyText);
        Assert.Equal(File.ReadAllBytes(TestImages.PathOf("gray-640x480.png")), document.Images[0].Image.Data);
        Assert.Equal(("Photos", "image/jpeg"), (document.Images[1].SectionPath, document.Images[1].Image.MediaType));
        Assert.StartsWith(ImageDocuments.PhotoTitle, document.Images[1].NearbyText, StringComparison.Ordinal);
        Assert.Empty(document.ImageProblems);
    }

    [Fact]
    public async Task ABrokenWordPictureIsReportedAndTheRestLoads()
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("handbook.docx");
        ImageDocuments.Docx(path, brokenImage: true);

        var document = await LoaderAssert.LoadSingleAsync(new DocxLoader(), path);

        Assert.Equal(2, document.Images.Count);
        string problem = Assert.Single(document.ImageProblems);
        Assert.Equal("image 3 ('Picture 3'): not a PNG, JPEG, WebP, GIF or BMP image", problem);
        Assert.Contains(ImageDocuments.ChartParagraph, document.Text, StringComparison.Ordinal);
    }
}
