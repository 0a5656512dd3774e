using System.Text;
using T5Gemma2.Rag.Indexer.Loading;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Loading;

public sealed class HtmlLoaderTests
{
    private const string Page = """
        <!DOCTYPE html>
        <html>
        <head><title>  The   Guide &amp; more </title><style>body { color: red }</style></head>
        <body>
          <nav><a href="/">Home</a> <a href="/x">Menu link</a></nav>
          <main>
            <p>Intro   text
               over two   lines.</p>
            <h1>Guide</h1>
            <p>Fish &amp; chips, <b>bold</b>text.</p>
            <script>var hidden = "script text";</script>
            <h2>Install</h2>
            <ul><li>Item one</li><li>Item two</li></ul>
            <h3>Linux <small>(x64)</small></h3>
            <pre>line 1
          indented line 2</pre>
            <div hidden>hidden div</div>
            <h2>Usage</h2>
            <table><tr><th>Name</th><th>Value</th></tr><tr><td>a</td><td>1</td></tr></table>
            <p>First<br>second line</p>
          </main>
          <footer>Footer text</footer>
        </body>
        </html>
        """;

    private readonly HtmlLoader _sut = new();

    [Fact]
    public async Task MainTextIsReadWithBlocksAsBreaksAndNoScriptsStylesOrNavigation()
    {
        using var temp = new TempDirectory();
        string path = temp.Write("guide.html", Page);

        var document = await LoaderAssert.LoadSingleAsync(this._sut, path);

        Assert.Equal("The Guide & more", document.Title);
        Assert.Equal(
            "Intro text over two lines.\n\nGuide\n\nFish & chips, boldtext.\n\nInstall\n\nItem one\nItem two\n\nLinux (x64)\n\n"
            + "line 1\n  indented line 2\n\nUsage\n\nName Value\na 1\n\nFirst\nsecond line",
            document.Text);
        Assert.DoesNotContain("script text", document.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("Menu link", document.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("Footer", document.Text, StringComparison.Ordinal); // outside <main>
        Assert.DoesNotContain("hidden div", document.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HeadingsStartSectionsWithTheirChain()
    {
        using var temp = new TempDirectory();
        string path = temp.Write("guide.htm", Page);

        var document = await LoaderAssert.LoadSingleAsync(this._sut, path);

        Assert.Equal([null, "Guide", "Guide > Install", "Guide > Install > Linux (x64)", "Guide > Usage"], document.Sections.Select(s => s.HeadingPath));
        Assert.Equal("Intro text over two lines.\n\n", LoaderAssert.TextOf(document, document.Sections[0]));
        Assert.Equal("Install\n\nItem one\nItem two\n\n", LoaderAssert.TextOf(document, LoaderAssert.Section(document, "Guide > Install")));
        Assert.StartsWith("Usage\n\nName Value", LoaderAssert.TextOf(document, LoaderAssert.Section(document, "Guide > Usage")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutMainTheArticlesAreReadElseTheBody()
    {
        using var temp = new TempDirectory();
        string articles = temp.Write("articles.html", "<body><div>chrome</div><article><h1>One</h1><p>first</p><article>nested</article></article><aside>side</aside><article><p>second</p></article></body>");
        string body = temp.Write("body.html", "<html><body><h1>Top</h1><p>Body text</p></body></html>");
        string fragment = temp.Write("fragment.html", "just <i>some</i> text");

        var fromArticles = await LoaderAssert.LoadSingleAsync(this._sut, articles);
        var fromBody = await LoaderAssert.LoadSingleAsync(this._sut, body);
        var fromFragment = await LoaderAssert.LoadSingleAsync(this._sut, fragment);

        Assert.Equal("One\n\nfirst\n\nnested\n\nsecond", fromArticles.Text);
        Assert.Equal("One", fromArticles.Title); // no <title>: the first h1
        Assert.Equal("Top\n\nBody text", fromBody.Text);
        Assert.Equal("Top", fromBody.Title);
        Assert.Equal("just some text", fromFragment.Text);
        Assert.Null(fromFragment.Title);
    }

    [Fact]
    public async Task AnEmptyHeadingStartsNoSection()
    {
        using var temp = new TempDirectory();
        string path = temp.Write("empty-heading.html", "<h1>Top</h1><p>a</p><h2> </h2><p>b</p><h2>Next</h2><p>c</p><h3></h3>");

        var document = await LoaderAssert.LoadSingleAsync(this._sut, path);

        Assert.Equal(["Top", "Top > Next"], document.Sections.Select(s => s.HeadingPath));
        Assert.Equal("Top\n\na\n\nb\n\n", LoaderAssert.TextOf(document, document.Sections[0]));
        Assert.Equal("Next\n\nc", LoaderAssert.TextOf(document, document.Sections[1]));
    }

    [Fact]
    public async Task HundredThousandNestedDivsAreRefusedNotAStackOverflow()
    {
        using var temp = new TempDirectory();
        var html = new StringBuilder("<html><body>");
        html.Insert(html.Length, "<div>", 100_000).Append("deep text").Insert(html.Length, "</div>", 100_000).Append("</body></html>");
        string path = temp.Write("deep.html", html.ToString());

        var ex = await LoaderAssert.FailsAsync(this._sut, path);

        Assert.Contains($"nested deeper than {HtmlLoader.MaxNestingDepth} elements", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NestingWithinTheLimitLoads()
    {
        using var temp = new TempDirectory();
        var html = new StringBuilder("<html><body>");
        html.Insert(html.Length, "<div><span>", 1500).Append("deep text").Append("</body></html>"); // never closed
        string path = temp.Write("deep-ok.html", html.ToString());

        var document = await LoaderAssert.LoadSingleAsync(this._sut, path);

        Assert.Equal("deep text", document.Text);
    }

    [Fact]
    public async Task BinaryContentNamedHtmlIsRefused()
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("page.html");
        await File.WriteAllBytesAsync(path, [.. "<html>"u8, 0, 0, 1, 2, .. "</html>"u8], TestContext.Current.CancellationToken);

        var ex = await LoaderAssert.FailsAsync(this._sut, path);

        Assert.Equal(TextDecoder.BinaryContentReason, ex.Reason);
    }

    [Fact]
    public async Task AnEmptyFileIsADocumentWithoutText()
    {
        using var temp = new TempDirectory();
        string path = temp.Write("empty.html", string.Empty);

        var document = await LoaderAssert.LoadSingleAsync(this._sut, path);

        Assert.Equal(string.Empty, document.Text);
        Assert.Empty(document.Sections);
    }
}
