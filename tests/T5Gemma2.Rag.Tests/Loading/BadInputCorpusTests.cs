using System.IO.Compression;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Indexer.Loading;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Loading;

/// <summary>The same bad inputs through every loader: each either loads (with whole sections) or fails with a DocumentLoadException.</summary>
public sealed class BadInputCorpusTests
{
    private static readonly DocumentLoaders s_loaders = DocumentLoaders.CreateDefault();

    public static TheoryData<string> SingleDocumentExtensions => [".txt", ".md", ".html", ".pdf", ".docx"];

    public static TheoryData<string> AllExtensions => [".txt", ".md", ".html", ".pdf", ".docx", ".jsonl", ".json", ".jsonl.gz"];

    [Theory]
    [MemberData(nameof(SingleDocumentExtensions))]
    public async Task AnEmptyFileIsOneDocumentWithoutText(string extension)
    {
        using var temp = new TempDirectory();
        string path = temp.Write("empty" + extension, string.Empty);

        var document = await LoaderAssert.LoadSingleAsync(s_loaders.ForFile(path)!, path);

        Assert.Equal(string.Empty, document.Text);
        Assert.Empty(document.Sections);
        Assert.Equal(path.Replace('\\', '/'), document.DocumentId); // a file's document id is its full path
    }

    [Theory]
    [InlineData(".jsonl")]
    [InlineData(".json")]
    [InlineData(".jsonl.gz")]
    public async Task AnEmptyRecordFileHasNoRecords(string extension)
    {
        using var temp = new TempDirectory();
        string path = temp.Write("empty" + extension, string.Empty);

        Assert.Empty(await LoaderAssert.LoadAsync(s_loaders.ForFile(path)!, path));
    }

    [Theory]
    [MemberData(nameof(AllExtensions))]
    public async Task RandomBytesLoadOrFailWithADocumentLoadException(string extension)
    {
        using var temp = new TempDirectory();
        for (int seed = 0; seed < 8; seed++)
        {
            byte[] bytes = PdfLoaderTests.RandomBytes(3000, seed);
            if (seed % 2 == 1)
            {
                // Without NUL bytes, so the text loaders get past the binary check and decode garbage.
                bytes = [.. bytes.Select(b => b == 0 ? (byte)' ' : b)];
            }

            string path = temp.Combine($"noise {seed}{extension}");
            await File.WriteAllBytesAsync(path, bytes, TestContext.Current.CancellationToken);

            try
            {
                var documents = await LoaderAssert.LoadAsync(s_loaders.ForFile(path)!, path);
                Assert.All(documents, d => Assert.Equal(path, d.Source));
            }
            catch (DocumentLoadException ex)
            {
                Assert.Equal(path, ex.Path);
                Assert.DoesNotContain('\n', ex.Message);
            }
        }
    }

    [Theory]
    [InlineData(".txt")]
    [InlineData(".md")]
    [InlineData(".html")]
    [InlineData(".json")]
    public async Task BinaryContentUnderATextExtensionIsRefused(string extension)
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("program" + extension);
        await File.WriteAllBytesAsync(path, [0x7F, .. "ELF"u8, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0x3E, 0], TestContext.Current.CancellationToken);

        var ex = await LoaderAssert.FailsAsync(s_loaders.ForFile(path)!, path);

        Assert.Equal(TextDecoder.BinaryContentReason, ex.Reason);
    }

    [Theory]
    [MemberData(nameof(AllExtensions))]
    public async Task NamesWithSpacesAndNonAsciiCharactersLoad(string extension)
    {
        using var temp = new TempDirectory();
        string relative = $"dossier ü/résumé 東京{extension}";
        string path = temp.Combine("dossier ü", $"résumé 東京{extension}");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string text = extension == ".pdf" ? "Greetings from Koeln" : "Grüße aus Köln"; // PdfPig writes Helvetica with its standard encoding: no umlauts
        await WriteValidAsync(path, extension, text);

        var documents = await LoaderAssert.LoadAsync(s_loaders.ForFile(path)!, path, relative);

        var document = Assert.Single(documents);
        Assert.Contains(text, document.Text, StringComparison.Ordinal);
        Assert.StartsWith(path.Replace('\\', '/'), document.DocumentId, StringComparison.Ordinal);
        Assert.Equal(path, document.Source);
    }

    [Fact]
    public async Task CancellationStopsLoadingWithOperationCanceledException()
    {
        using var temp = new TempDirectory();
        string path = temp.Write("a.txt", "text");
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in s_loaders.ForFile(path)!.LoadAsync(new DocumentFile(path, "a.txt"), cancelled.Token))
            {
            }
        });
    }

    private static async Task WriteValidAsync(string path, string extension, string text)
    {
        switch (extension)
        {
            case ".pdf":
                await File.WriteAllBytesAsync(path, PdfLoaderTests.BuildPdf(null, [text]), TestContext.Current.CancellationToken);
                break;
            case ".docx":
                DocxLoaderTests.WriteDocx(path, [DocxLoaderTests.Para(text)]);
                break;
            case ".jsonl" or ".json":
                await File.WriteAllTextAsync(path, $"{{\"_id\": \"1\", \"text\": \"{text}\"}}", TestContext.Current.CancellationToken);
                break;
            case ".jsonl.gz":
                await using (var file = File.Create(path))
                await using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
                {
                    await gzip.WriteAsync(System.Text.Encoding.UTF8.GetBytes($"{{\"_id\": \"1\", \"text\": \"{text}\"}}\n"), TestContext.Current.CancellationToken);
                }

                break;
            default:
                await File.WriteAllTextAsync(path, extension == ".html" ? $"<p>{text}</p>" : text, TestContext.Current.CancellationToken);
                break;
        }
    }
}
