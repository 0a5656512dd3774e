using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.SemanticKernel;
using T5Gemma2.Rag.Tests.Images;
using T5Gemma2.Rag.Tests.Infrastructure;
using T5Gemma2.Rag.Tests.Pipeline;

namespace T5Gemma2.Rag.Tests.SemanticKernel;

/// <summary>
/// The plugin's ask with an image argument, through a real kernel with the tiny vision model: base64, a data: URI and
/// a path under the roots give the same answer; every way out of the roots a path can take is refused with "outside
/// the allowed folders" although what lies there is a real image; the size limit holds for base64 too.
/// </summary>
public sealed class ImageAskAttackTests(SharedMiniLm miniLm, SharedTinyT5Gemma2 tiny) : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        this._directory.Dispose();
    }

    [Fact]
    public async Task AnImageComesInAsBase64ADataUriOrAPathUnderTheRootsAndNoOtherWay()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "symbolic links need a privilege on Windows");
        string root = this._directory.Combine("root");
        Directory.CreateDirectory(root);
        byte[] png = File.ReadAllBytes(TestImages.PathOf("photo-640x480.png"));
        File.WriteAllBytes(Path.Combine(root, "question.png"), png);
        string secret = this._directory.Combine("outside", "secret.png");
        Directory.CreateDirectory(Path.GetDirectoryName(secret)!);
        File.Copy(TestImages.PathOf("diagram-300x1200.png"), secret);
        File.CreateSymbolicLink(Path.Combine(root, "file-link.png"), secret);
        Directory.CreateSymbolicLink(Path.Combine(root, "dir-link"), Path.GetDirectoryName(secret)!);
        string docs = this._directory.Combine("root", "docs");
        TestCorpus.WriteMarkdown(docs, TestCorpus.Records(4));
        await using var sut = KnowledgeKernel.Create(miniLm.Generator, this._directory.Combine("store"), o =>
        {
            o.GeneratorModelDirectory = tiny.ConvertedDirectory;
            o.Generation = new GenerationOptions { MaxNewTokens = 6, MinNewTokens = 6 };
            o.FileRoots = [root];
            o.MaxImageBytes = 2_000_000;
        });
        Assert.Null((await sut.InvokeAsync<IndexResult>("index_file", new() { ["path"] = docs })).Error);
        Assert.False(string.IsNullOrWhiteSpace(sut.Kernel.Plugins["knowledge"]["ask"].Metadata.Parameters.Single(p => p.Name == "image").Description));

        var asBase64 = await this.AskAsync(sut, Convert.ToBase64String(png));
        var asDataUri = await this.AskAsync(sut, "data:image/png;base64," + Convert.ToBase64String(png));
        var asPath = await this.AskAsync(sut, Path.Combine(root, "question.png"));
        var throughDots = await this.AskAsync(sut, Path.Combine(root, "docs", "..", "question.png"));
        Assert.Null(asBase64.Error);
        Assert.False(string.IsNullOrWhiteSpace(asBase64.Answer));
        Assert.Equal(asBase64, asDataUri with { Citations = asBase64.Citations });
        Assert.Equal(asBase64.Answer, asPath.Answer);
        Assert.Equal(asBase64.Answer, throughDots.Answer);

        string[] attacks =
        [
            secret,
            Path.Combine(root, "..", "outside", "secret.png"),
            Path.Combine(root, "file-link.png"),
            Path.Combine(root, "dir-link", "secret.png"),
            Path.Combine(root, "%2e%2e", "outside", "secret.png"),
            "file://" + secret,
            "/etc/passwd",
        ];
        foreach (string attack in attacks)
        {
            var refused = await this.AskAsync(sut, attack);
            Assert.NotNull(refused.Error);
            Assert.Null(refused.Answer);
            Assert.True(refused.Error.Contains("outside the allowed folders", StringComparison.Ordinal) || refused.Error.Contains("not found", StringComparison.Ordinal), $"{attack}: {refused.Error}");
            Assert.DoesNotContain("secret", refused.Error.Replace(attack, string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        }

        var tooLarge = await this.AskAsync(sut, Convert.ToBase64String(new byte[2_100_000]));
        var notAnImage = await this.AskAsync(sut, Convert.ToBase64String("%PDF-1.7 not an image, long enough to be base64"u8.ToArray()));
        var pdfUri = await this.AskAsync(sut, "data:application/pdf;base64," + Convert.ToBase64String("%PDF-1.7"u8.ToArray()));
        var truncated = await this.AskAsync(sut, Convert.ToBase64String(png[..300]));
        Assert.Contains("over the limit", tooLarge.Error, StringComparison.Ordinal);
        Assert.NotNull(notAnImage.Error);
        Assert.Contains("does not hold a PNG", pdfUri.Error, StringComparison.Ordinal);
        Assert.NotNull(truncated.Error);
        Assert.DoesNotContain('\n', truncated.Error);
    }

    [Fact]
    public async Task WithoutRootsADeviceThatNeverEndsIsCutAtTheLimit()
    {
        Assert.SkipUnless(File.Exists("/dev/zero"), "no /dev/zero on this system");
        string docs = this._directory.Combine("docs");
        TestCorpus.WriteMarkdown(docs, TestCorpus.Records(2));
        await using var sut = KnowledgeKernel.Create(miniLm.Generator, this._directory.Combine("store"), o =>
        {
            o.GeneratorModelDirectory = tiny.ConvertedDirectory;
            o.Generation = new GenerationOptions { MaxNewTokens = 2 };
            o.MaxImageBytes = 1_000_000;
        });
        Assert.Null((await sut.InvokeAsync<IndexResult>("index_file", new() { ["path"] = docs })).Error);

        var endless = await this.AskAsync(sut, "/dev/zero");

        Assert.NotNull(endless.Error);
        Assert.Contains("over the limit of 1,000,000 bytes", endless.Error, StringComparison.Ordinal);
    }

    private Task<AnswerResult> AskAsync(KnowledgeKernel sut, string image) =>
        sut.InvokeAsync<AnswerResult>("ask", new() { ["question"] = "What does the picture show?", ["top"] = 2, ["image"] = image });
}
