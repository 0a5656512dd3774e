using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;
using T5Gemma2.Rag.Tests.Images;
using T5Gemma2.Rag.Tests.Loading;
using PageSize = UglyToad.PdfPig.Content.PageSize;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;

namespace T5Gemma2.Rag.Tests.Infrastructure;

/// <summary>
/// The generator of the image documents the indexing tests read: a PDF with images on two pages (PdfPig's
/// PdfDocumentBuilder) and a Word file with pictures and alt text (the Open XML SDK), from pixels' committed image set.
/// </summary>
internal static class ImageDocuments
{
    public const string PageOneText = "Page one shows the otter diagram.";
    public const string PageTwoText = "Page two has the harbour photo.";
    public const string ChartAlt = "Bar chart of quarterly sales";
    public const string ChartParagraph = "The chart below compares the quarters.";
    public const string PhotoTitle = "Harbour at dawn";

    /// <summary>Page 1: text, a PNG and an icon (17×9, skipped); page 2: text and a JPEG; with <paramref name="brokenImage"/>, page 3 holds a JPEG cut after its header.</summary>
    public static byte[] Pdf(bool brokenImage = false)
    {
        using var builder = new PdfDocumentBuilder();
        builder.DocumentInformation.Title = "Field report";
        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        var one = builder.AddPage(PageSize.A4);
        one.AddText(PageOneText, 12, new PdfPoint(50, 750), font);
        one.AddPng(File.ReadAllBytes(TestImages.PathOf("rgba-400x300.png")), new PdfRectangle(50, 400, 450, 700));
        one.AddPng(File.ReadAllBytes(TestImages.PathOf("rgb-17x9.png")), new PdfRectangle(50, 350, 67, 359));
        var two = builder.AddPage(PageSize.A4);
        two.AddText(PageTwoText, 12, new PdfPoint(50, 750), font);
        two.AddJpeg(File.ReadAllBytes(TestImages.PathOf("exif6-320x240.jpg")), new PdfRectangle(50, 400, 370, 640));
        if (brokenImage)
        {
            var three = builder.AddPage(PageSize.A4);
            three.AddText("Page three has a damaged picture.", 12, new PdfPoint(50, 750), font);
            three.AddJpeg(CutJpeg(), new PdfRectangle(50, 400, 370, 640));
        }

        return builder.Build();
    }

    /// <summary>
    /// "Figures": a paragraph, then a PNG picture with alt text (descr); "Photos": a JPEG picture with only a title. With
    /// <paramref name="brokenImage"/>, a third picture whose image part holds bytes that are no image.
    /// </summary>
    public static void Docx(string path, bool brokenImage = false)
    {
        DocxLoaderTests.WriteDocx(path, [], packageTitle: "Sales handbook");
        using var word = WordprocessingDocument.Open(path, isEditable: true);
        var main = word.MainDocumentPart!;
        string chart = AddImage(main, ImagePartType.Png, File.ReadAllBytes(TestImages.PathOf("gray-640x480.png")));
        string photo = AddImage(main, ImagePartType.Jpeg, File.ReadAllBytes(TestImages.PathOf("exif8-320x240.jpg")));
        var body = main.Document!.Body!;
        body.Append(
            DocxLoaderTests.Para("Figures", "Heading1"),
            DocxLoaderTests.Para(ChartParagraph),
            new Paragraph(new Run(Picture(1, chart, descr: ChartAlt, title: null))),
            DocxLoaderTests.Para("Photos", "Heading1"),
            new Paragraph(new Run(Picture(2, photo, descr: null, title: PhotoTitle))));
        if (brokenImage)
        {
            string broken = AddImage(main, ImagePartType.Png, "this is not a picture"u8.ToArray());
            body.Append(new Paragraph(new Run(Picture(3, broken, descr: "A damaged picture", title: null))));
        }

        main.Document.Save();
    }

    /// <summary>A JPEG of the image set cut after its headers: it opens (so extraction keeps it) but does not decode.</summary>
    public static byte[] CutJpeg() => File.ReadAllBytes(TestImages.PathOf("exif6-320x240.jpg"))[..700];

    private static string AddImage(MainDocumentPart main, PartTypeInfo type, byte[] data)
    {
        var part = main.AddImagePart(type);
        using (var stream = new MemoryStream(data))
        {
            part.FeedData(stream);
        }

        return main.GetIdOfPart(part);
    }

    private static Drawing Picture(int id, string relationship, string? descr, string? title) => new($"""
        <w:drawing xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
          <wp:inline xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing">
            <wp:extent cx="990000" cy="792000"/>
            <wp:docPr id="{id}" name="Picture {id}"{(descr is null ? "" : $" descr=\"{descr}\"")}{(title is null ? "" : $" title=\"{title}\"")}/>
            <a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">
              <a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">
                <pic:pic xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture">
                  <pic:nvPicPr><pic:cNvPr id="0" name="picture{id}"/><pic:cNvPicPr/></pic:nvPicPr>
                  <pic:blipFill><a:blip xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" r:embed="{relationship}"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>
                  <pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="990000" cy="792000"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr>
                </pic:pic>
              </a:graphicData>
            </a:graphic>
          </wp:inline>
        </w:drawing>
        """);
}
