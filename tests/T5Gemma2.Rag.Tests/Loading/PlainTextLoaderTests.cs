using System.Diagnostics;
using System.Text;
using T5Gemma2.Rag.Indexer.Loading;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Loading;

public sealed class PlainTextLoaderTests
{
    private readonly PlainTextLoader _sut = new();

    [Fact]
    public async Task ReadsOneDocumentWithOneSectionFromAPathWithSpacesAndAccents()
    {
        using var temp = new TempDirectory();
        string path = temp.Write("notes ü/résumé ü.txt", "Première ligne\r\nzweite Zeile\n");

        var document = await LoaderAssert.LoadSingleAsync(this._sut, path, "notes ü/résumé ü.txt");

        Assert.Equal(path.Replace('\\', '/'), document.DocumentId);
        Assert.Equal(path, document.Source);
        Assert.Null(document.Title);
        Assert.Equal("Première ligne\nzweite Zeile\n", document.Text);
        var section = Assert.Single(document.Sections);
        Assert.Equal((0, document.Text.Length, null, null), (section.Start, section.Length, section.HeadingPath, section.Page));
    }

    [Fact]
    public async Task AnEmptyFileIsADocumentWithoutText()
    {
        using var temp = new TempDirectory();
        string path = temp.Write("empty.txt", string.Empty);

        var document = await LoaderAssert.LoadSingleAsync(this._sut, path);

        Assert.Equal(string.Empty, document.Text);
        Assert.Empty(document.Sections);
    }

    [Fact]
    public async Task BinaryContentNamedTxtIsRefused()
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("photo.txt");
        await File.WriteAllBytesAsync(path, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52], TestContext.Current.CancellationToken);

        var ex = await LoaderAssert.FailsAsync(this._sut, path);

        Assert.Equal(TextDecoder.BinaryContentReason, ex.Reason);
    }

    [Fact]
    public async Task InvalidBytesAreCountedOnTheDocument()
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("latin1.txt");
        await File.WriteAllBytesAsync(path, Encoding.Latin1.GetBytes("café crème"), TestContext.Current.CancellationToken);

        var document = await LoaderAssert.LoadSingleAsync(this._sut, path);

        Assert.Equal("caf\uFFFD cr\uFFFDme", document.Text);
        Assert.Equal(2, document.ReplacedCharacters);
    }

    [Fact]
    public async Task AFiveMegabyteSingleLineLoadsWhole()
    {
        using var temp = new TempDirectory();
        var builder = new StringBuilder(5_000_000);
        while (builder.Length < 5_000_000)
        {
            builder.Append("token ");
        }

        string text = builder.ToString(0, 5_000_000);
        string path = temp.Write("one line.txt", text);
        var stopwatch = Stopwatch.StartNew();

        var document = await LoaderAssert.LoadSingleAsync(this._sut, path);

        Assert.Equal(text, document.Text);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"took {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task AMissingFileIsADocumentLoadException()
    {
        using var temp = new TempDirectory();

        var ex = await LoaderAssert.FailsAsync(this._sut, temp.Combine("gone.txt"));

        Assert.Equal("not found", ex.Reason);
    }
}
