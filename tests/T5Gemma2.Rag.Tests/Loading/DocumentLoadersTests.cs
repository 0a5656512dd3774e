using T5Gemma2.Rag.Indexer.Loading;

namespace T5Gemma2.Rag.Tests.Loading;

public sealed class DocumentLoadersTests
{
    private readonly DocumentLoaders _sut = DocumentLoaders.CreateDefault();

    [Theory]
    [InlineData("notes.txt", typeof(PlainTextLoader))]
    [InlineData("/a/b/README.MD", typeof(MarkdownLoader))]
    [InlineData("dir.with.dots/page.Html", typeof(HtmlLoader))]
    [InlineData("scan.PDF", typeof(PdfLoader))]
    [InlineData("report.docx", typeof(DocxLoader))]
    [InlineData("corpus.jsonl", typeof(JsonRecordLoader))]
    [InlineData("corpus.JSONL.GZ", typeof(JsonRecordLoader))]
    [InlineData("v1.2.records.json", typeof(JsonRecordLoader))]
    [InlineData("résumé ü.md", typeof(MarkdownLoader))]
    [InlineData("photo.JPG", typeof(ImageFileLoader))]
    [InlineData("diagram.webp", typeof(ImageFileLoader))]
    public void FilesGoToTheLoaderOfTheirExtension(string path, Type expected)
    {
        Assert.IsType(expected, this._sut.ForFile(path));
    }

    [Theory]
    [InlineData("archive.gz")]
    [InlineData("video.mp4")]
    [InlineData("Makefile")]
    [InlineData(".md")]
    [InlineData("notes.md.bak")]
    [InlineData("")]
    public void OtherFilesHaveNoLoader(string path)
    {
        Assert.Null(this._sut.ForFile(path));
    }

    [Theory]
    [InlineData("guide/intro.MD", ".md")]
    [InlineData("corpus.JSONL.GZ", ".jsonl.gz")]
    [InlineData("v1.2.records.json", ".json")]
    [InlineData("notes.md.bak", null)]
    [InlineData(".md", null)]
    [InlineData("Makefile", null)]
    public void TheExtensionIsTheLongestRegisteredOneLowerCase(string path, string? expected)
    {
        Assert.Equal(expected, this._sut.ExtensionOf(path));
    }

    [Fact]
    public void TheExtensionsAreListedSortedAndLowerCase()
    {
        Assert.Equal([".bmp", ".csv", ".docx", ".gif", ".htm", ".html", ".jpeg", ".jpg", ".json", ".jsonl", ".jsonl.gz", ".log", ".markdown", ".md", ".mdown", ".mkd", ".ndjson", ".pdf", ".png", ".rst", ".text", ".tsv", ".txt", ".webp", ".xhtml"], this._sut.Extensions);
    }

    [Fact]
    public void TheJsonOptionsReachTheRecordLoader()
    {
        var skipped = new List<SkippedRecord>();
        var loaders = DocumentLoaders.CreateDefault(new JsonRecordLoaderOptions { RecordSkipped = skipped.Add });

        Assert.Equal(7, loaders.Loaders.Count);
        Assert.IsType<JsonRecordLoader>(loaders.ForFile("x.jsonl"));
    }

    [Fact]
    public void AnExtensionWithoutItsDotIsRefused()
    {
        Assert.Throws<ArgumentException>(() => new DocumentLoaders([new NoDotLoader()]));
    }

    private sealed class NoDotLoader : IDocumentLoader
    {
        public IReadOnlyCollection<string> Extensions => ["md"];

        public IAsyncEnumerable<Indexer.Documents.LoadedDocument> LoadAsync(Indexer.Documents.DocumentFile file, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();
    }
}
