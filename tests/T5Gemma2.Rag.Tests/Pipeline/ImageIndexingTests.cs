using Microsoft.Extensions.AI;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Indexer.Pipeline;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Indexer.Stores.Embedded;
using T5Gemma2.Rag.Tests.Images;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Pipeline;

/// <summary>
/// A folder with an image file, an icon, the PDF and the Word file of <see cref="ImageDocuments"/> indexed by the tiny
/// T5Gemma 2 (real vision and encoder graphs) into a real SQLite store: image passages with kind, page or section and
/// nearby text; re-indexing skips unchanged images and re-embeds a changed one; broken images are reported while the
/// rest is indexed; a text-only model leaves images out.
/// </summary>
public sealed class ImageIndexingTests(SharedTinyT5Gemma2 tiny) : IDisposable
{
    private readonly TempDirectory _directory = new();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => this._directory.Dispose();

    [Fact]
    public async Task ImagePassagesAreIndexedWithTheirPlaceAndFoundAndUnchangedOnesAreSkipped()
    {
        string docs = this.WriteFolder(brokenImages: false);
        using var generator = OnnxEmbeddingGenerator.Create(tiny.ConvertedDirectory);
        using var store = EmbeddedPassageStore.Open(this._directory.Combine("store"));
        var collection = await Collection(store, generator);
        var progress = new List<IngestProgress>();

        var summary = await IngestPipeline.Create(generator, collection).IndexFilesAsync([docs], new SynchronousProgress(progress), Token);

        Assert.True(summary.Succeeded, string.Join("; ", summary.Failures));
        Assert.Equal(5, summary.ImagePassagesNew); // photo.png, two PDF page images, two Word pictures
        Assert.Equal(2, summary.ImagesSkipped); // icon.png and the PDF's icon
        Assert.Equal(4, summary.DocumentsNew);
        Assert.Equal(5, progress[^1].ImagesEmbedded);

        // The image file's own vector finds it first: the stored vector is the image's embedding.
        var photoVector = (await generator.GenerateAsync([new DataContent(File.ReadAllBytes(Path.Combine(docs, "photo.png")), "image/png")], cancellationToken: Token))[0].Vector.ToArray();
        var nearest = await collection.SearchAsync(new SearchRequest(SearchMode.Dense, 1) { Vector = photoVector }, Token);
        Assert.Equal((Path.Combine(docs, "photo.png"), PassageKind.Image), (nearest[0].Passage.Source, nearest[0].Passage.Kind));
        Assert.Equal(1.0, nearest[0].Score, 4);
        Assert.Equal(File.ReadAllBytes(Path.Combine(docs, "photo.png")), nearest[0].Passage.Image!.Data);

        var otter = await collection.SearchAsync(new SearchRequest(SearchMode.Keyword, 10) { Text = "otter" }, Token);
        var pageImage = Assert.Single(otter, h => h.Passage.Kind == PassageKind.Image).Passage;
        Assert.Equal((1, ImageDocuments.PageOneText, "image/png"), (pageImage.Page, pageImage.Text, pageImage.Image!.MediaType));
        Assert.Contains(otter, h => h.Passage.Kind == PassageKind.Text && h.Passage.Page == 1);
        var chart = await collection.SearchAsync(new SearchRequest(SearchMode.Keyword, 10) { Text = "quarterly" }, Token);
        var picture = Assert.Single(chart, h => h.Passage.Kind == PassageKind.Image).Passage;
        Assert.Equal(("Figures", "image/png"), (picture.SectionPath, picture.Image!.MediaType));
        Assert.StartsWith(ImageDocuments.ChartAlt, picture.Text, StringComparison.Ordinal);

        var again = await IngestPipeline.Create(generator, collection).IndexFilesAsync([docs], cancellationToken: Token);
        Assert.Equal((4, 0, 0L, 0L), (again.DocumentsUnchanged, again.DocumentsChanged, again.PassagesNew, again.ImagePassagesNew));

        // A changed image is a new passage of its document and is embedded again; the others stay as they were.
        File.Copy(TestImages.PathOf("gray-alpha-400x300.png"), Path.Combine(docs, "photo.png"), overwrite: true);
        var changed = await IngestPipeline.Create(generator, collection).IndexFilesAsync([docs], cancellationToken: Token);
        Assert.Equal((3, 1, 1L, 1L), (changed.DocumentsUnchanged, changed.DocumentsChanged, changed.PassagesNew, changed.ImagePassagesNew));
        var newVector = (await generator.GenerateAsync([new DataContent(File.ReadAllBytes(Path.Combine(docs, "photo.png")), "image/png")], cancellationToken: Token))[0].Vector.ToArray();
        var found = await collection.SearchAsync(new SearchRequest(SearchMode.Dense, 1) { Vector = newVector }, Token);
        Assert.Equal(Path.Combine(docs, "photo.png"), found[0].Passage.Source);
        Assert.Equal(1.0, found[0].Score, 4);
    }

    [Fact]
    public async Task BrokenImagesAreReportedAndTheRestOfTheirDocumentsIsIndexed()
    {
        string docs = this.WriteFolder(brokenImages: true);
        using var generator = OnnxEmbeddingGenerator.Create(tiny.ConvertedDirectory);
        using var store = EmbeddedPassageStore.Open(this._directory.Combine("store"));
        var collection = await Collection(store, generator);

        var summary = await IngestPipeline.Create(generator, collection).IndexFilesAsync([docs], cancellationToken: Token);

        // The Word file's picture that is no image is found on loading; the PDF's cut JPEG only when it is decoded.
        Assert.Equal(2, summary.Failures.Count);
        Assert.Contains(summary.Failures, f => f.Path.EndsWith("handbook.docx", StringComparison.Ordinal) && f.Reason.StartsWith("image 3 ('Picture 3'): ", StringComparison.Ordinal));
        Assert.Contains(summary.Failures, f => f.Path.EndsWith("report.pdf", StringComparison.Ordinal) && f.Reason.Contains("page 3", StringComparison.Ordinal));
        Assert.Equal(5, summary.ImagePassagesNew);
        Assert.Equal(4, summary.DocumentsNew);
        var page3 = await collection.SearchAsync(new SearchRequest(SearchMode.Keyword, 10) { Text = "damaged" }, Token);
        Assert.NotEmpty(page3);
        Assert.All(page3, h => Assert.Equal(PassageKind.Text, h.Passage.Kind)); // the page's text is indexed, its broken image is not

        // The document written without its bad image is looked at again next time (and reported again), not taken as unchanged.
        var again = await IngestPipeline.Create(generator, collection).IndexFilesAsync([docs], cancellationToken: Token);
        Assert.Contains(again.Failures, f => f.Path.EndsWith("report.pdf", StringComparison.Ordinal));
        Assert.Equal(0, again.ImagePassagesNew);
    }

    [Fact]
    public async Task ATextOnlyModelIndexesTheTextAndLeavesTheImagesOut()
    {
        string docs = this.WriteFolder(brokenImages: false);
        using var generator = OnnxEmbeddingGenerator.Create(TestAssets.MiniLmDirectory);
        using var store = EmbeddedPassageStore.Open(this._directory.Combine("store"));
        var collection = await Collection(store, generator);

        var summary = await IngestPipeline.Create(generator, collection).IndexFilesAsync([docs], cancellationToken: Token);

        Assert.True(summary.Succeeded, string.Join("; ", summary.Failures));
        Assert.Equal((0L, 5), (summary.ImagePassagesNew, summary.ImagesNotEmbedded));
        var otter = await collection.SearchAsync(new SearchRequest(SearchMode.Keyword, 10) { Text = "otter" }, Token);
        Assert.All(otter, h => Assert.Equal(PassageKind.Text, h.Passage.Kind));
        Assert.NotEmpty(otter);
    }

    private static Task<IPassageCollection> Collection(EmbeddedPassageStore store, OnnxEmbeddingGenerator generator) =>
        store.OpenOrCreateCollectionAsync("kb", generator.CollectionSettings(), Token);

    private string WriteFolder(bool brokenImages)
    {
        string docs = this._directory.Combine("docs");
        Directory.CreateDirectory(docs);
        File.Copy(TestImages.PathOf("photo-640x480.png"), Path.Combine(docs, "photo.png"));
        File.Copy(TestImages.PathOf("rgb-17x9.png"), Path.Combine(docs, "icon.png"));
        File.WriteAllBytes(Path.Combine(docs, "report.pdf"), ImageDocuments.Pdf(brokenImages));
        ImageDocuments.Docx(Path.Combine(docs, "handbook.docx"), brokenImages);
        return docs;
    }

    /// <summary>Collects reports on the reporting thread (Progress&lt;T&gt; would post them later).</summary>
    private sealed class SynchronousProgress(List<IngestProgress> reports) : IProgress<IngestProgress>
    {
        public void Report(IngestProgress value)
        {
            lock (reports)
            {
                reports.Add(value);
            }
        }
    }
}
