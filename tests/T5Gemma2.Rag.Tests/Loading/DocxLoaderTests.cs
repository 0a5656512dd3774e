using System.IO.Compression;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;
using T5Gemma2.Rag.Indexer.Loading;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Loading;

public sealed class DocxLoaderTests
{
    private readonly DocxLoader _sut = new();

    /// <summary>Writes a real .docx with the Open XML SDK; <paramref name="styles"/> adds a style definitions part.</summary>
    internal static void WriteDocx(string path, IEnumerable<OpenXmlElement> body, string? packageTitle = null, Styles? styles = null)
    {
        using var word = WordprocessingDocument.Create(path, WordprocessingDocumentType.Document);
        var main = word.AddMainDocumentPart();
        main.Document = new Document(new Body(body));
        if (styles is not null)
        {
            main.AddNewPart<StyleDefinitionsPart>().Styles = styles;
        }

        if (packageTitle is not null)
        {
            word.PackageProperties.Title = packageTitle;
        }
    }

    internal static Paragraph Para(string text, string? styleId = null)
    {
        var paragraph = new Paragraph(new Run(new Text(text) { Space = SpaceProcessingModeValues.Preserve }));
        if (styleId is not null)
        {
            paragraph.PrependChild(new ParagraphProperties(new ParagraphStyleId { Val = styleId }));
        }

        return paragraph;
    }

    private static Table TableOf(params string[][] rows) =>
        new(rows.Select(cells => new TableRow(cells.Select(cell => new TableCell(Para(cell))))));

    [Fact]
    public async Task HeadingStylesStartSectionsWithTheirChainAndTablesReadRowByRow()
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("manual ü.docx");
        WriteDocx(path,
        [
            Para("The Manual", "Title"),
            Para("Front text."),
            Para("Install", "Heading1"),
            Para("Get it."),
            Para("Linux", "Heading2"),
            new Paragraph(new Run(new Text("apt"), new TabChar(), new Text("install")), new Run(new Break(), new Text("second line"))),
            Para("Windows", "Heading2"),
            Para("Usage", "Heading1"),
            TableOf(["Name", "Value"], ["a", "1"]),
            Para(string.Empty),
            Para("After the table."),
        ]);

        var document = await LoaderAssert.LoadSingleAsync(this._sut, path);

        Assert.Equal("The Manual", document.Title);
        Assert.Equal(
            "The Manual\n\nFront text.\n\nInstall\n\nGet it.\n\nLinux\n\napt\tinstall\nsecond line\n\nWindows\n\nUsage\n\nName | Value\na | 1\n\nAfter the table.",
            document.Text);
        Assert.Equal(
            ["The Manual", "The Manual > Install", "The Manual > Install > Linux", "The Manual > Install > Windows", "The Manual > Usage"],
            document.Sections.Select(s => s.HeadingPath));
        Assert.Equal("Linux\n\napt\tinstall\nsecond line\n\n", LoaderAssert.TextOf(document, LoaderAssert.Section(document, "The Manual > Install > Linux")));
        Assert.EndsWith("Name | Value\na | 1\n\nAfter the table.", LoaderAssert.TextOf(document, document.Sections[^1]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThePackageTitleWinsAndCustomStylesCountByNameOrOutlineLevel()
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("styled.docx");
        var styles = new Styles(
            new Style(new StyleName { Val = "heading 1" }) { Type = StyleValues.Paragraph, StyleId = "Berschrift1" },
            new Style(new StyleName { Val = "Chapter" }, new StyleParagraphProperties(new OutlineLevel { Val = 1 })) { Type = StyleValues.Paragraph, StyleId = "Chapter" },
            new Style(new StyleName { Val = "Fancy section" }, new BasedOn { Val = "Chapter" }) { Type = StyleValues.Paragraph, StyleId = "Fancy" });
        WriteDocx(path, [Para("Intro"), Para("Erste", "Berschrift1"), Para("body one"), Para("Zweite", "Chapter"), Para("Dritte", "Fancy"), Para("body two")], packageTitle: "From the package", styles: styles);

        var document = await LoaderAssert.LoadSingleAsync(this._sut, path);

        Assert.Equal("From the package", document.Title);
        Assert.Equal([null, "Erste", "Erste > Zweite", "Erste > Dritte"], document.Sections.Select(s => s.HeadingPath));
        Assert.Equal("Dritte\n\nbody two", LoaderAssert.TextOf(document, document.Sections[^1]));
    }

    [Fact]
    public async Task ADocxThatIsNotAZipIsADocumentLoadException()
    {
        using var temp = new TempDirectory();
        string path = temp.Write("fake.docx", "I am plain text pretending to be a Word file.");

        var ex = await LoaderAssert.FailsAsync(this._sut, path);

        Assert.Contains("expected a Word .docx (zip) document", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AZipWithoutTheDocumentPartIsADocumentLoadException()
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("empty package.docx");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            using var writer = new StreamWriter(zip.CreateEntry("hello.txt").Open());
            writer.Write("not word");
        }

        var ex = await LoaderAssert.FailsAsync(this._sut, path);

        Assert.Contains("word/document.xml", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATruncatedDocxIsADocumentLoadException()
    {
        using var temp = new TempDirectory();
        string good = temp.Combine("good.docx");
        WriteDocx(good, [Para("text")]);
        byte[] bytes = await File.ReadAllBytesAsync(good, TestContext.Current.CancellationToken);
        string path = temp.Combine("truncated.docx");
        await File.WriteAllBytesAsync(path, bytes[..(bytes.Length / 2)], TestContext.Current.CancellationToken);

        await LoaderAssert.FailsAsync(this._sut, path);
    }

    [Fact]
    public async Task AnEmptyFileIsADocumentWithoutText()
    {
        using var temp = new TempDirectory();
        string path = temp.Write("empty.docx", string.Empty);

        var document = await LoaderAssert.LoadSingleAsync(this._sut, path);

        Assert.Equal(string.Empty, document.Text);
    }
}
