using T5Gemma2.Rag.Indexer.Loading;
using T5Gemma2.Rag.Tests.Infrastructure;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;

namespace T5Gemma2.Rag.Tests.Loading;

public sealed class PdfLoaderTests
{
    private readonly PdfLoader _sut = new();

    /// <summary>A real PDF written by PdfPig: one page per entry, each line of a page at its own height; null is a blank page.</summary>
    internal static byte[] BuildPdf(string? title, params string[]?[] pages)
    {
        using var builder = new PdfDocumentBuilder();
        if (title is not null)
        {
            builder.DocumentInformation.Title = title;
        }

        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        foreach (var lines in pages)
        {
            var page = builder.AddPage(PageSize.A4);
            double y = 750;
            foreach (string line in lines ?? [])
            {
                page.AddText(line, 12, new PdfPoint(50, y), font);
                y -= 20;
            }
        }

        return builder.Build();
    }

    [Fact]
    public async Task EachPageWithTextIsASectionWithItsNumber()
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("report ü.pdf");
        await File.WriteAllBytesAsync(path, BuildPdf("Quarterly report", ["Hello page one", "Second line here"], null, ["Third page text"]), TestContext.Current.CancellationToken);

        var document = await LoaderAssert.LoadSingleAsync(this._sut, path);

        Assert.Equal("Quarterly report", document.Title);
        Assert.Equal("Hello page one\nSecond line here\n\nThird page text", document.Text);
        Assert.Equal([1, 3], document.Sections.Select(s => s.Page));
        Assert.Equal("Hello page one\nSecond line here\n\n", LoaderAssert.TextOf(document, document.Sections[0]));
        Assert.Equal("Third page text", LoaderAssert.TextOf(document, document.Sections[1]));
        Assert.All(document.Sections, s => Assert.Null(s.HeadingPath));
    }

    [Fact]
    public async Task APdfWithoutTitleOrTextLoadsEmpty()
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("scan.pdf");
        await File.WriteAllBytesAsync(path, BuildPdf(null, null, null), TestContext.Current.CancellationToken);

        var document = await LoaderAssert.LoadSingleAsync(this._sut, path);

        Assert.Null(document.Title);
        Assert.Equal(string.Empty, document.Text);
        Assert.Empty(document.Sections);
    }

    [Fact]
    public async Task CorruptPdfsAreDocumentLoadExceptions()
    {
        using var temp = new TempDirectory();
        byte[] good = BuildPdf("t", ["some text"]);
        var corrupt = new Dictionary<string, byte[]>
        {
            ["not-a-pdf.pdf"] = "this is plain text, not a PDF"u8.ToArray(),
            ["garbage.pdf"] = "%PDF-1.7\nthis is garbage\n%%EOF"u8.ToArray(),
            ["truncated.pdf"] = good[..(good.Length / 2)],
            ["random.pdf"] = RandomBytes(4096, seed: 7),
        };

        foreach (var (name, bytes) in corrupt)
        {
            string path = temp.Combine(name);
            await File.WriteAllBytesAsync(path, bytes, TestContext.Current.CancellationToken);

            var ex = await LoaderAssert.FailsAsync(this._sut, path);

            Assert.Contains("expected a PDF document", ex.Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AnEmptyFileIsADocumentWithoutText()
    {
        using var temp = new TempDirectory();
        string path = temp.Write("empty.pdf", string.Empty);

        var document = await LoaderAssert.LoadSingleAsync(this._sut, path);

        Assert.Equal(string.Empty, document.Text);
    }

    internal static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
#pragma warning disable CA5394 // deterministic noise for a test input, not security
        new Random(seed).NextBytes(bytes);
#pragma warning restore CA5394
        return bytes;
    }
}
