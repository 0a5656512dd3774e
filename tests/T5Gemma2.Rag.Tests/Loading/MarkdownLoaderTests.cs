using T5Gemma2.Rag.Indexer.Loading;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Loading;

public sealed class MarkdownLoaderTests
{
    private const string Guide = """
        Some words before any heading.

        # Install

        Get the tool.

        ## Linux

        Use the package manager.

        ### From source

        Run `make install`.

        ```sh
        # not a heading, a shell comment
        ```

        ## Windows

        Use the installer.

        # Usage

        Run it.

        Usage notes
        -----------

        Setext heading body.

        > ## Quoted heading
        > quoted body
        """;

    private readonly MarkdownLoader _sut = new();

    [Fact]
    public async Task EveryHeadingStartsASectionWithItsChainOfHeadings()
    {
        using var temp = new TempDirectory();
        string path = temp.Write("guide.md", Guide.Replace("\n", "\r\n", StringComparison.Ordinal));

        var document = await LoaderAssert.LoadSingleAsync(this._sut, path);

        Assert.Equal(Guide, document.Text); // the source itself, with '\n' line ends
        Assert.Equal(
            [null, "Install", "Install > Linux", "Install > Linux > From source", "Install > Windows", "Usage", "Usage > Usage notes", "Usage > Quoted heading"],
            document.Sections.Select(s => s.HeadingPath));
        Assert.Equal("Some words before any heading.\n\n", LoaderAssert.TextOf(document, document.Sections[0]));
        string fromSource = LoaderAssert.TextOf(document, LoaderAssert.Section(document, "Install > Linux > From source"));
        Assert.StartsWith("### From source\n", fromSource, StringComparison.Ordinal);
        Assert.Contains("# not a heading, a shell comment", fromSource, StringComparison.Ordinal);
        Assert.StartsWith("Usage notes\n---", LoaderAssert.TextOf(document, LoaderAssert.Section(document, "Usage > Usage notes")), StringComparison.Ordinal);
        Assert.Equal("> ## Quoted heading\n> quoted body", LoaderAssert.TextOf(document, document.Sections[^1]));
        Assert.Equal("Install", document.Title);
    }

    [Fact]
    public async Task TheTitleIsTheFirstLevelOneHeadingElseTheFirstHeading()
    {
        using var temp = new TempDirectory();
        string withTop = temp.Write("a.md", "## Preface\n\ntext\n\n# The *Real* `Title`\n");
        string withoutTop = temp.Write("b.md", "intro\n\n### Only &amp; deep\n");
        string without = temp.Write("c.md", "no headings at all\n");

        Assert.Equal("The Real Title", (await LoaderAssert.LoadSingleAsync(this._sut, withTop)).Title);
        Assert.Equal("Only & deep", (await LoaderAssert.LoadSingleAsync(this._sut, withoutTop)).Title);
        var plain = await LoaderAssert.LoadSingleAsync(this._sut, without);
        Assert.Null(plain.Title);
        Assert.Null(Assert.Single(plain.Sections).HeadingPath);
    }

    [Fact]
    public async Task AnEmptyHeadingStartsNoSection()
    {
        using var temp = new TempDirectory();
        string path = temp.Write("bare.md", "#\n\nbody\n\n## Real\n\nmore\n");

        var document = await LoaderAssert.LoadSingleAsync(this._sut, path);

        Assert.Equal([null, "Real"], document.Sections.Select(s => s.HeadingPath));
        Assert.Equal("#\n\nbody\n\n", LoaderAssert.TextOf(document, document.Sections[0]));
        Assert.Equal("Real", document.Title);
    }

    [Fact]
    public async Task FrontMatterGivesTheTitleAndIsNotTakenForAHeading()
    {
        using var temp = new TempDirectory();
        string path = temp.Write("post.md", "---\ntitle: \"From the front matter\"\ntags: [a]\n---\n\n# Heading\n\nbody\n");

        var document = await LoaderAssert.LoadSingleAsync(this._sut, path);

        Assert.Equal("From the front matter", document.Title);
        Assert.Equal([null, "Heading"], document.Sections.Select(s => s.HeadingPath));
        Assert.StartsWith("---\ntitle:", LoaderAssert.TextOf(document, document.Sections[0]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ANonAsciiNameWithSpacesLoads()
    {
        using var temp = new TempDirectory();
        string path = temp.Write("résumé ü.md", "# Lebenslauf\n\nÜberall.\n");

        var document = await LoaderAssert.LoadSingleAsync(this._sut, path);

        Assert.Equal(path.Replace('\\', '/'), document.DocumentId);
        Assert.Equal("Lebenslauf", document.Title);
    }

    [Fact]
    public async Task AnEmptyFileIsADocumentWithoutText()
    {
        using var temp = new TempDirectory();
        string path = temp.Write("empty.md", string.Empty);

        var document = await LoaderAssert.LoadSingleAsync(this._sut, path);

        Assert.Equal(string.Empty, document.Text);
        Assert.Empty(document.Sections);
        Assert.Null(document.Title);
    }

    [Fact]
    public async Task HundredThousandNestedQuotesAreRefusedNotAStackOverflow()
    {
        using var temp = new TempDirectory();
        string path = temp.Write("deep.md", new string('>', 100_000) + " deep\n\n# After\n");

        var ex = await LoaderAssert.FailsAsync(this._sut, path);

        Assert.Contains("nested too deeply", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFiveMegabyteSingleLineFullOfEmphasisLoads()
    {
        using var temp = new TempDirectory();
        string line = string.Concat(Enumerable.Repeat("lorem *ipsum* dolor ", 250_000));
        string path = temp.Write("long.md", "# Long\n" + line);

        var document = await LoaderAssert.LoadSingleAsync(this._sut, path);

        // 500,000 emphasis delimiters in one paragraph are past Markdig's inline nesting limit; the blocks still parse.
        Assert.Equal(7 + line.Length, document.Text.Length);
        Assert.Equal("Long", Assert.Single(document.Sections).HeadingPath);
        Assert.Equal("Long", document.Title);
    }
}
