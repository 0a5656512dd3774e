using System.Text;
using T5Gemma2.Rag.Encoder.Images;
using T5Gemma2.Rag.Indexer.Documents;
using UglyToad.PdfPig;
using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.DocumentLayoutAnalysis.TextExtractor;
using UglyToad.PdfPig.Exceptions;

namespace T5Gemma2.Rag.Indexer.Loading;

/// <summary>
/// Reads a PDF's text with PdfPig, page by page in content order (the order the page draws its text, which for most
/// generated PDFs is reading order, with line breaks where the text moves down). Pages are separated by a blank line
/// ("\n\n") and each page with text is one section with its 1-based <see cref="DocumentSection.Page"/> (the separator
/// belongs to the page before it); pages without text (scans) have no section, so a scanned PDF loads with empty text.
/// The title is the document information's, where set. A corrupt or encrypted PDF is a <see cref="DocumentLoadException"/>.
/// Each page's images are images of that page, with the page's text (its first <see cref="NearbyCharacters"/>
/// characters) as their nearby text: a JPEG as stored, anything else as PdfPig renders it to PNG. An image that cannot
/// be extracted is reported, not fatal.
/// </summary>
public sealed class PdfLoader : PackageDocumentLoader
{
    private const string PageSeparator = "\n\n";

    /// <summary>How much of a page's text goes beside each of its images: a caption's worth, not the whole page.</summary>
    public const int NearbyCharacters = 1000;

    private static readonly string[] s_extensions = [".pdf"];

    /// <inheritdoc/>
    public override IReadOnlyCollection<string> Extensions => s_extensions;

    /// <inheritdoc/>
    protected override LoadedDocument Parse(DocumentFile file, byte[] bytes, CancellationToken cancellationToken)
    {
        try
        {
            using var pdf = PdfDocument.Open(bytes, new ParsingOptions { UseLenientParsing = true, SkipMissingFonts = true });
            var text = new StringBuilder();
            var sections = new List<DocumentSection>();
            var images = new DocumentImageCollector();
            for (int number = 1; number <= pdf.NumberOfPages; number++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var page = pdf.GetPage(number);
                string pageText = TextDecoder.NormalizeLineEnds(ContentOrderTextExtractor.GetText(page)).Trim();
                AddImages(page, number, pageText.Length > NearbyCharacters ? pageText[..NearbyCharacters] : pageText, images);
                if (pageText.Length == 0)
                {
                    continue;
                }

                if (sections.Count > 0)
                {
                    text.Append(PageSeparator);
                    var previous = sections[^1];
                    sections[^1] = previous with { Length = previous.Length + PageSeparator.Length };
                }

                sections.Add(new DocumentSection(text.Length, pageText.Length, Page: number));
                text.Append(pageText);
            }

            string? title = pdf.Information.Title?.Trim();
            return new LoadedDocument
            {
                DocumentId = file.DocumentId,
                Source = file.Source,
                Title = string.IsNullOrEmpty(title) ? null : title,
                Text = text.ToString(),
                Sections = sections,
                Images = images.Images,
                SkippedImages = images.Skipped,
                ImageProblems = images.Problems,
            };
        }
        catch (PdfDocumentEncryptedException ex)
        {
            throw LoaderIO.Invalid(file.Source, "encrypted PDF; expected one without a password", ex);
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or DocumentLoadException or OutOfMemoryException))
        {
            // PdfPig reports damage with its own format exceptions but also with whatever a broken structure makes it hit.
            throw LoaderIO.Invalid(file.Source, "corrupt or unsupported PDF; expected a PDF document", ex);
        }
    }

    private static void AddImages(Page page, int number, string nearby, DocumentImageCollector images)
    {
        int index = 0;
        foreach (var image in page.GetImages())
        {
            index++;
            string where = $"page {number}, image {index}";
            byte[] data;
            try
            {
                // A JPEG (DCTDecode) is stored as a whole file; other images are raw samples that PdfPig can write as PNG.
                data = ImageFormats.Sniff(image.RawMemory.Span) is not null ? image.RawMemory.ToArray()
                    : image.TryGetPng(out byte[]? png) && png is not null ? png
                    : [];
            }
            catch (Exception ex) when (ex is not (OperationCanceledException or OutOfMemoryException))
            {
                data = []; // PdfPig cannot decode the image's filter or colour space: reported below as an unusable image
            }

            images.Add(data, where, nearby, page: number);
        }
    }

}
