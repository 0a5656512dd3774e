using System.Runtime.CompilerServices;
using System.Text;
using Markdig;
using Markdig.Extensions.Yaml;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;
using T5Gemma2.Rag.Indexer.Documents;

namespace T5Gemma2.Rag.Indexer.Loading;

/// <summary>
/// Reads Markdown with Markdig. The text stays the Markdown source (line ends normalised), so sections and later chunk
/// spans point into what the author wrote; a section starts at the line of every heading (ATX or setext, also inside
/// quotes and lists) and carries the chain of enclosing headings ("Install > Linux > From source"). The title is a YAML
/// front matter <c>title:</c>, else the first level-1 heading, else the first heading.
/// </summary>
public sealed class MarkdownLoader : IDocumentLoader
{
    private static readonly string[] s_extensions = [".md", ".markdown", ".mdown", ".mkd"];

    // Front matter is parsed as its own block, so "title: x" followed by "---" is not taken for a setext heading.
    private static readonly MarkdownPipeline s_pipeline = new MarkdownPipelineBuilder().UseYamlFrontMatter().Build();

    // Without inline parsers: for a paragraph with so many emphasis delimiters that Markdig's inline nesting limit trips.
    private static readonly MarkdownPipeline s_blocksOnlyPipeline = BlocksOnly();

    /// <inheritdoc/>
    public IReadOnlyCollection<string> Extensions => s_extensions;

    /// <inheritdoc/>
    public async IAsyncEnumerable<LoadedDocument> LoadAsync(DocumentFile file, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        var decoded = await TextDecoder.ReadFileAsync(file, cancellationToken).ConfigureAwait(false);
        yield return Parse(file, decoded, cancellationToken);
    }

    private static LoadedDocument Parse(DocumentFile file, DecodedText decoded, CancellationToken cancellationToken)
    {
        string text = decoded.Text;
        MarkdownDocument markdown;
        try
        {
            markdown = Markdown.Parse(text, s_pipeline); // spans are offsets into this very string
        }
        catch (ArgumentException)
        {
            // Markdig refuses input nested past its depth limit rather than overflow the stack. Inline nesting (tens of
            // thousands of emphasis delimiters in one paragraph) does not matter for sections: parse the blocks alone.
            try
            {
                markdown = Markdown.Parse(text, s_blocksOnlyPipeline);
            }
            catch (ArgumentException ex)
            {
                throw LoaderIO.Invalid(file.Source, "Markdown nested too deeply to parse; expected ordinary Markdown", ex);
            }
        }

        var sections = new SectionListBuilder();
        string? firstHeading = null;
        string? firstTopHeading = null;
        string? frontMatterTitle = null;
        foreach (var block in markdown.Descendants<Block>())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (block is YamlFrontMatterBlock yaml && frontMatterTitle is null)
            {
                frontMatterTitle = FrontMatterTitle(text, yaml.Span);
            }
            else if (block is HeadingBlock heading)
            {
                string title = HeadingText(heading);
                if (title.Length == 0)
                {
                    continue; // a bare "#" names nothing: it stays in the section before
                }

                firstHeading ??= title;
                if (heading.Level == 1)
                {
                    firstTopHeading ??= title;
                }

                int start = Math.Clamp(heading.Span.Start, 0, text.Length);
                int lineStart = start == 0 ? 0 : text.LastIndexOf('\n', start - 1) + 1;
                sections.Heading(lineStart, heading.Level, title);
            }
        }

        return new LoadedDocument
        {
            DocumentId = file.DocumentId,
            Source = file.Source,
            Title = NullIfEmpty(frontMatterTitle) ?? firstTopHeading ?? firstHeading,
            Text = text,
            Sections = sections.Build(text.Length),
            ReplacedCharacters = decoded.ReplacedCharacters,
        };
    }

    /// <summary>The heading's visible text: literals, code and entities, with markup dropped and whitespace collapsed.</summary>
    private static string HeadingText(HeadingBlock heading)
    {
        var builder = new StringBuilder();
        if (heading.Inline is null)
        {
            return string.Empty;
        }

        // Iterative, so a heading full of nested emphasis cannot exhaust the stack.
        var pending = new Stack<Inline>();
        for (var child = heading.Inline.LastChild; child is not null; child = child.PreviousSibling)
        {
            pending.Push(child);
        }

        while (pending.Count > 0)
        {
            var inline = pending.Pop();
            switch (inline)
            {
                case LiteralInline literal:
                    builder.Append(literal.Content.AsSpan());
                    break;
                case CodeInline code:
                    builder.Append(code.Content);
                    break;
                case HtmlEntityInline entity:
                    builder.Append(entity.Transcoded.AsSpan());
                    break;
                case AutolinkInline autolink:
                    builder.Append(autolink.Url);
                    break;
                case LineBreakInline:
                    builder.Append(' ');
                    break;
                case ContainerInline container:
                    for (var child = container.LastChild; child is not null; child = child.PreviousSibling)
                    {
                        pending.Push(child);
                    }

                    break;
            }
        }

        return CollapseWhitespace(builder.ToString());
    }

    private static MarkdownPipeline BlocksOnly()
    {
        var builder = new MarkdownPipelineBuilder().UseYamlFrontMatter();
        builder.InlineParsers.Clear();
        return builder.Build();
    }

    private static string? FrontMatterTitle(string text, SourceSpan span)
    {
        if (span.IsEmpty || span.Start < 0 || span.End >= text.Length)
        {
            return null;
        }

        foreach (string line in text.Substring(span.Start, span.Length).Split('\n'))
        {
            if (line.StartsWith("title:", StringComparison.OrdinalIgnoreCase))
            {
                string value = line["title:".Length..].Trim();
                if (value.Length >= 2 && (value[0] is '"' or '\'') && value[^1] == value[0])
                {
                    value = value[1..^1];
                }

                return CollapseWhitespace(value);
            }
        }

        return null;
    }

    private static string CollapseWhitespace(string value) => string.Join(' ', value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
