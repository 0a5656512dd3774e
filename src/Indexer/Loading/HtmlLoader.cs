using System.Runtime.CompilerServices;
using System.Text;
using HtmlAgilityPack;
using T5Gemma2.Rag.Indexer.Documents;

namespace T5Gemma2.Rag.Indexer.Loading;

/// <summary>
/// Reads HTML with HtmlAgilityPack into readable text: the page's <c>&lt;main&gt;</c> (else its top-level
/// <c>&lt;article&gt;</c>s, else <c>&lt;body&gt;</c>), without scripts, styles, navigation and other non-text elements;
/// block elements become line or paragraph breaks, other whitespace collapses to single spaces, <c>&lt;pre&gt;</c> keeps
/// its own. Sections start at every h1–h6 with the heading chain as path. The title is <c>&lt;title&gt;</c>, else the
/// first h1. The DOM is walked with an explicit stack, and the parser's nesting limit turns a page of tens of thousands
/// of unclosed tags into a <see cref="DocumentLoadException"/> instead of a stack overflow or minutes of parsing.
/// </summary>
public sealed class HtmlLoader : IDocumentLoader
{
    /// <summary>The deepest element nesting parsed; HtmlAgilityPack's parse time grows with the square of the depth.</summary>
    public const int MaxNestingDepth = 4096;

    private static readonly string[] s_extensions = [".html", ".htm", ".xhtml"];

    private static readonly HashSet<string> s_dropped = new(StringComparer.OrdinalIgnoreCase)
    {
        "head", "script", "style", "noscript", "template", "svg", "math", "nav", "iframe", "object", "embed", "canvas", "select", "button",
    };

    private static readonly HashSet<string> s_paragraphBlocks = new(StringComparer.OrdinalIgnoreCase)
    {
        "p", "blockquote", "pre", "table", "ul", "ol", "dl", "section", "article", "main", "figure", "hr", "details", "fieldset", "form",
    };

    private static readonly HashSet<string> s_lineBlocks = new(StringComparer.OrdinalIgnoreCase)
    {
        "div", "li", "tr", "dt", "dd", "header", "footer", "aside", "address", "caption", "figcaption", "summary", "legend", "body", "center",
        "thead", "tbody", "tfoot", "option", "label",
    };

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
        var html = new HtmlDocument { OptionMaxNestedChildNodes = MaxNestingDepth };
        try
        {
            html.LoadHtml(decoded.Text);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // HtmlAgilityPack reports its nesting limit with a plain Exception.
            string expected = ex.Message.Contains("nested", StringComparison.OrdinalIgnoreCase)
                ? $"HTML nested deeper than {MaxNestingDepth} elements (unclosed tags?); expected ordinary HTML"
                : "HTML that HtmlAgilityPack cannot parse; expected an HTML document";
            throw LoaderIO.Invalid(file.Source, expected, ex);
        }

        var (title, roots) = FindRoots(html.DocumentNode, cancellationToken);
        var writer = new VisibleTextWriter();
        foreach (var root in roots)
        {
            writer.Walk(root, cancellationToken);
            writer.Break(2);
        }

        string text = writer.ToString();
        return new LoadedDocument
        {
            DocumentId = file.DocumentId,
            Source = file.Source,
            Title = title ?? writer.FirstTopHeading,
            Text = text,
            Sections = writer.Sections.Build(text.Length),
            ReplacedCharacters = decoded.ReplacedCharacters,
        };
    }

    /// <summary>The &lt;title&gt; text, and the elements that hold the page's main text.</summary>
    private static (string? Title, IReadOnlyList<HtmlNode> Roots) FindRoots(HtmlNode document, CancellationToken cancellationToken)
    {
        string? title = null;
        HtmlNode? main = null;
        HtmlNode? body = null;
        var articles = new List<HtmlNode>();
        var pending = new Stack<(HtmlNode Node, bool InArticle)>();
        pending.Push((document, false));
        while (pending.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (node, inArticle) = pending.Pop();
            if (node.NodeType != HtmlNodeType.Element && node.NodeType != HtmlNodeType.Document)
            {
                continue;
            }

            switch (node.Name.ToLowerInvariant())
            {
                case "title" when title is null:
                    title = Collapse(HtmlEntity.DeEntitize(OwnText(node)));
                    continue;
                case "main":
                    main ??= node;
                    break;
                case "body":
                    body ??= node;
                    break;
                case "article" when !inArticle:
                    articles.Add(node);
                    inArticle = true;
                    break;
                case "script" or "style" or "template" or "noscript":
                    continue;
            }

            for (int i = node.ChildNodes.Count - 1; i >= 0; i--)
            {
                pending.Push((node.ChildNodes[i], inArticle));
            }
        }

        IReadOnlyList<HtmlNode> roots = main is not null ? [main] : articles.Count > 0 ? articles : [body ?? document];
        return (string.IsNullOrEmpty(title) ? null : title, roots);
    }

    private static string OwnText(HtmlNode node)
    {
        var builder = new StringBuilder();
        foreach (var child in node.ChildNodes)
        {
            if (child is HtmlTextNode text)
            {
                builder.Append(text.Text);
            }
        }

        return builder.ToString();
    }

    private static string Collapse(string value) => string.Join(' ', value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    private static int HeadingLevel(string name) =>
        name.Length == 2 && (name[0] is 'h' or 'H') && name[1] is >= '1' and <= '6' ? name[1] - '0' : 0;

    /// <summary>Writes the visible text of a DOM subtree with HTML's whitespace rules, recording heading sections.</summary>
    private sealed class VisibleTextWriter
    {
        private readonly StringBuilder _text = new();
        private int _pendingBreaks;
        private bool _pendingSpace;
        private int _preDepth;
        private int _headingStart = -1;
        private HtmlNode? _heading;

        public SectionListBuilder Sections { get; } = new();

        public string? FirstTopHeading { get; private set; }

        public void Walk(HtmlNode root, CancellationToken cancellationToken)
        {
            var pending = new Stack<(HtmlNode Node, bool Closing)>();
            pending.Push((root, false));
            int steps = 0;
            while (pending.Count > 0)
            {
                if (++steps % 4096 == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                var (node, closing) = pending.Pop();
                if (closing)
                {
                    this.Close(node);
                    continue;
                }

                switch (node.NodeType)
                {
                    case HtmlNodeType.Text:
                        this.Append(HtmlEntity.DeEntitize(((HtmlTextNode)node).Text));
                        continue;
                    case HtmlNodeType.Comment:
                        continue;
                    case HtmlNodeType.Element when s_dropped.Contains(node.Name) || node.Attributes.Contains("hidden"):
                        continue;
                }

                this.Open(node);
                pending.Push((node, true));
                for (int i = node.ChildNodes.Count - 1; i >= 0; i--)
                {
                    pending.Push((node.ChildNodes[i], false));
                }
            }
        }

        /// <summary>Asks for at least <paramref name="newlines"/> line ends before the next text (1: line, 2: paragraph).</summary>
        public void Break(int newlines) => this._pendingBreaks = Math.Max(this._pendingBreaks, newlines);

        public override string ToString() => this._text.ToString();

        private void Open(HtmlNode node)
        {
            string name = node.Name;
            if (name.Equals("br", StringComparison.OrdinalIgnoreCase))
            {
                this._pendingBreaks = Math.Min(2, this._pendingBreaks + 1);
            }
            else if (name is "td" or "th")
            {
                this._pendingSpace = true;
            }
            else if (HeadingLevel(name) > 0 && this._heading is null)
            {
                // The heading's section starts where its first text goes (see Flush); an empty heading starts none.
                this.Break(2);
                this._heading = node;
                this._headingStart = -1;
            }
            else
            {
                this.BlockBreak(name);
                if (name.Equals("pre", StringComparison.OrdinalIgnoreCase))
                {
                    this._preDepth++;
                }
            }
        }

        private void Close(HtmlNode node)
        {
            string name = node.Name;
            if (ReferenceEquals(node, this._heading))
            {
                string title = this._headingStart < 0 ? string.Empty : Collapse(this._text.ToString(this._headingStart, this._text.Length - this._headingStart));
                int level = HeadingLevel(name);
                if (title.Length > 0)
                {
                    this.Sections.Heading(this._headingStart, level, title);
                    if (level == 1)
                    {
                        this.FirstTopHeading ??= title;
                    }
                }

                this._heading = null;
                this.Break(2);
                return;
            }

            this.BlockBreak(name);
            if (name.Equals("pre", StringComparison.OrdinalIgnoreCase))
            {
                this._preDepth--;
            }
        }

        private void BlockBreak(string name)
        {
            if (s_paragraphBlocks.Contains(name) || HeadingLevel(name) > 0)
            {
                this.Break(2);
            }
            else if (s_lineBlocks.Contains(name))
            {
                this.Break(1);
            }
        }

        private void Append(string value)
        {
            if (this._preDepth > 0)
            {
                if (value.Length > 0)
                {
                    this.Flush();
                    this._text.Append(value);
                }

                return;
            }

            int start = -1;
            for (int i = 0; i <= value.Length; i++)
            {
                bool space = i == value.Length || char.IsWhiteSpace(value[i]);
                if (!space && start < 0)
                {
                    start = i;
                    this.Flush();
                }
                else if (space && start >= 0)
                {
                    this._text.Append(value, start, i - start);
                    start = -1;
                }

                if (space && i < value.Length)
                {
                    this._pendingSpace = true;
                }
            }
        }

        /// <summary>Writes the pending break or space before the next text (nothing at the very start), and marks where an open heading's text begins.</summary>
        private void Flush()
        {
            if (this._text.Length > 0)
            {
                if (this._pendingBreaks > 0)
                {
                    int have = 0;
                    for (int i = this._text.Length - 1; i >= 0 && have < this._pendingBreaks && this._text[i] == '\n'; i--)
                    {
                        have++;
                    }

                    this._text.Append('\n', this._pendingBreaks - have);
                }
                else if (this._pendingSpace && this._text[^1] is not ('\n' or ' '))
                {
                    this._text.Append(' ');
                }
            }

            this._pendingBreaks = 0;
            this._pendingSpace = false;
            if (this._heading is not null && this._headingStart < 0)
            {
                this._headingStart = this._text.Length;
            }
        }
    }
}
