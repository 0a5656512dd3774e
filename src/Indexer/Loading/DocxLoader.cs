using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;
using T5Gemma2.Rag.Indexer.Documents;

namespace T5Gemma2.Rag.Indexer.Loading;

/// <summary>
/// Reads a Word .docx with the Open XML SDK: the body's paragraphs in order, separated by blank lines, and tables row by
/// row (one line per row, cells joined by " | "). A paragraph is a heading when its style is Heading1–Heading9 (by id,
/// by the style's name "heading N", by an outline level on the paragraph or its style, or by a style based on one) or
/// Title (outermost); each heading starts a section with the heading chain as path. The title is the package's
/// title property, else the first Title paragraph, else the first level-1 heading. Deleted revisions and field codes
/// are left out. A file that is not a zip package, or one without word/document.xml, is a <see cref="DocumentLoadException"/>.
/// Each picture (a drawing's blip, pointing at an image part) is an image: its nearby text is the drawing's alt text
/// (docPr descr, else title) and its paragraph's text (the paragraph before it when its own has none), its section the
/// heading path it sits under. An image part that is missing or not a readable image is reported, not fatal.
/// </summary>
public sealed class DocxLoader : PackageDocumentLoader
{
    private const int TitleLevel = 0;

    private static readonly string[] s_extensions = [".docx"];

    /// <inheritdoc/>
    public override IReadOnlyCollection<string> Extensions => s_extensions;

    /// <inheritdoc/>
    protected override LoadedDocument Parse(DocumentFile file, byte[] bytes, CancellationToken cancellationToken)
    {
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            using var word = WordprocessingDocument.Open(stream, isEditable: false);
            var body = word.MainDocumentPart?.Document?.Body
                ?? throw new DocumentLoadException(file.Source, "a zip package without word/document.xml; expected a Word .docx document");
            var styles = HeadingStyles(word.MainDocumentPart.StyleDefinitionsPart?.Styles);
            var writer = new Writer();
            var images = new DocumentImageCollector();
            Walk(body, styles, writer, (paragraph, text) => AddImages(word.MainDocumentPart, paragraph, text, writer, images), cancellationToken);
            string text = writer.Text.ToString();
            string? title = word.PackageProperties.Title?.Trim();
            return new LoadedDocument
            {
                DocumentId = file.DocumentId,
                Source = file.Source,
                Title = !string.IsNullOrEmpty(title) ? title : writer.TitleParagraph ?? writer.FirstTopHeading,
                Text = text,
                Sections = writer.Sections.Build(text.Length),
                Images = images.Images,
                SkippedImages = images.Skipped,
                ImageProblems = images.Problems,
            };
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or DocumentLoadException or OutOfMemoryException))
        {
            // The SDK and System.IO.Packaging report a damaged package with several exception types.
            throw LoaderIO.Invalid(file.Source, "corrupt DOCX; expected a Word .docx (zip) document", ex);
        }
    }

    /// <summary>The pictures of one paragraph, in order.</summary>
    private static void AddImages(MainDocumentPart main, Paragraph paragraph, string paragraphText, Writer writer, DocumentImageCollector images)
    {
        foreach (var blip in paragraph.Descendants<DocumentFormat.OpenXml.Drawing.Blip>())
        {
            int number = images.Images.Count + images.Skipped + images.Problems.Count + 1;
            var properties = blip.Ancestors<DocumentFormat.OpenXml.Wordprocessing.Drawing>().FirstOrDefault()?.Descendants<DocumentFormat.OpenXml.Drawing.Wordprocessing.DocProperties>().FirstOrDefault();
            string alt = properties?.Description?.Value is { Length: > 0 } description ? description : properties?.Title?.Value ?? string.Empty;
            string nearby = string.Join("\n", new[] { alt.Trim(), paragraphText.Length > 0 ? paragraphText : writer.LastParagraph ?? string.Empty }.Where(s => s.Length > 0));
            string where = $"image {number}{(properties?.Name?.Value is { Length: > 0 } name ? $" ('{name}')" : "")}";
            byte[]? data = null;
            try
            {
                if (blip.Embed?.Value is { } id && main.GetPartById(id) is ImagePart part)
                {
                    using var stream = part.GetStream();
                    using var copy = new MemoryStream();
                    stream.CopyTo(copy);
                    data = copy.ToArray();
                }
            }
            catch (Exception ex) when (ex is ArgumentOutOfRangeException or KeyNotFoundException or IOException or InvalidOperationException)
            {
                data = null; // a relationship to no part: reported below like a missing image
            }

            images.Add(data ?? [], where, nearby, writer.Sections.HeadingPath);
        }
    }

    private static void Walk(Body body, Dictionary<string, int> styles, Writer writer, Action<Paragraph, string> pictures, CancellationToken cancellationToken)
    {
        var pending = new Stack<OpenXmlElement>();
        for (var child = body.LastChild; child is not null; child = child.PreviousSibling())
        {
            pending.Push(child);
        }

        while (pending.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            switch (pending.Pop())
            {
                case Paragraph paragraph:
                    string text = ParagraphText(paragraph);
                    int? level = HeadingLevel(paragraph, styles);
                    if (level is int headingLevel && Collapse(text) is { Length: > 0 } heading)
                    {
                        writer.Heading(headingLevel, heading);
                    }
                    else
                    {
                        pictures(paragraph, text);
                        writer.Paragraph(text);
                    }

                    break;
                case Table table:
                    writer.Table(table.Elements<TableRow>().Select(row => string.Join(" | ", row.Elements<TableCell>()
                        .Select(cell => Collapse(string.Join(' ', cell.Descendants<Paragraph>().Select(ParagraphText)))))));
                    break;
                case SectionProperties:
                    break;
                case var other:
                    for (var child = other.LastChild; child is not null; child = child.PreviousSibling())
                    {
                        pending.Push(child);
                    }

                    break;
            }
        }
    }

    private static string ParagraphText(Paragraph paragraph)
    {
        var builder = new StringBuilder();
        foreach (var element in paragraph.Descendants())
        {
            switch (element)
            {
                case Text text:
                    builder.Append(text.Text);
                    break;
                case TabChar or PositionalTab:
                    builder.Append('\t');
                    break;
                case Break or CarriageReturn:
                    builder.Append('\n');
                    break;
                case NoBreakHyphen:
                    builder.Append('-');
                    break;
            }
        }

        return TextDecoder.NormalizeLineEnds(builder.ToString()).Trim();
    }

    /// <summary>The heading level of a paragraph (0 for Title), or null for body text.</summary>
    private static int? HeadingLevel(Paragraph paragraph, Dictionary<string, int> styles)
    {
        var properties = paragraph.ParagraphProperties;
        if (properties?.OutlineLevel?.Val?.Value is int outline && outline < 9)
        {
            return outline + 1;
        }

        string? styleId = properties?.ParagraphStyleId?.Val?.Value;
        if (styleId is null)
        {
            return null;
        }

        return styles.TryGetValue(styleId, out int level) ? level : LevelFromName(styleId);
    }

    /// <summary>Heading levels of the document's paragraph styles, following "based on" chains.</summary>
    private static Dictionary<string, int> HeadingStyles(Styles? styles)
    {
        var byId = new Dictionary<string, Style>(StringComparer.Ordinal);
        foreach (var style in styles?.Elements<Style>() ?? [])
        {
            if (style.StyleId?.Value is string id)
            {
                byId.TryAdd(id, style);
            }
        }

        var levels = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var id in byId.Keys)
        {
            var style = byId[id];
            for (int hop = 0; hop < 16 && style is not null; hop++)
            {
                int? level = style.StyleParagraphProperties?.OutlineLevel?.Val?.Value is int outline && outline < 9 ? outline + 1
                    : LevelFromName(style.StyleId?.Value) ?? LevelFromName(style.StyleName?.Val?.Value);
                if (level is int found)
                {
                    levels[id] = found;
                    break;
                }

                style = style.BasedOn?.Val?.Value is string basedOn ? byId.GetValueOrDefault(basedOn) : null;
            }
        }

        return levels;
    }

    /// <summary>"Heading3", "heading 3" → 3; "Title" → 0; anything else → null.</summary>
    private static int? LevelFromName(string? name)
    {
        if (name is null)
        {
            return null;
        }

        if (name.Equals("Title", StringComparison.OrdinalIgnoreCase))
        {
            return TitleLevel;
        }

        var span = name.AsSpan();
        if (span.StartsWith("heading", StringComparison.OrdinalIgnoreCase))
        {
            span = span["heading".Length..].Trim();
            if (span.Length == 1 && span[0] is >= '1' and <= '9')
            {
                return span[0] - '0';
            }
        }

        return null;
    }

    private static string Collapse(string value) => string.Join(' ', value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    /// <summary>Appends paragraphs with blank lines between them and records heading sections.</summary>
    private sealed class Writer
    {
        public StringBuilder Text { get; } = new();

        public SectionListBuilder Sections { get; } = new();

        public string? TitleParagraph { get; private set; }

        public string? FirstTopHeading { get; private set; }

        /// <summary>The last body paragraph with text: a picture's nearby text when its own paragraph has none.</summary>
        public string? LastParagraph { get; private set; }

        public void Paragraph(string text)
        {
            if (text.Length == 0)
            {
                return;
            }

            this.Separate();
            this.Text.Append(text);
            this.LastParagraph = text;
        }

        public void Heading(int level, string text)
        {
            this.Separate();
            this.Sections.Heading(this.Text.Length, level, text);
            this.Text.Append(text);
            if (level == TitleLevel)
            {
                this.TitleParagraph ??= text;
            }
            else if (level == 1)
            {
                this.FirstTopHeading ??= text;
            }
        }

        public void Table(IEnumerable<string> rows)
        {
            bool first = true;
            foreach (string row in rows)
            {
                if (row.Replace("|", string.Empty, StringComparison.Ordinal).Trim().Length == 0)
                {
                    continue;
                }

                if (first)
                {
                    this.Separate();
                    first = false;
                }
                else
                {
                    this.Text.Append('\n');
                }

                this.Text.Append(row);
            }
        }

        private void Separate()
        {
            if (this.Text.Length > 0)
            {
                this.Text.Append("\n\n");
            }
        }
    }
}
