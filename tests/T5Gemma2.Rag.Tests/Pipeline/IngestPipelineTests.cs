using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Indexer.Chunking;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Indexer.Pipeline;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Indexer.Stores.Embedded;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Pipeline;

/// <summary>The ingest pipeline on real files, the real MiniLM model and a real SQLite store.</summary>
public sealed class IngestPipelineTests(SharedMiniLm miniLm) : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        this._directory.Dispose();
    }

    [Fact]
    public async Task IndexesAFolderReportsBadFilesAndFindsPassagesWithTheirSections()
    {
        string docs = this._directory.Combine("docs");
        this._directory.Write("docs/guide.md", "# Guide\n\nIntro text about the product.\n\n## Install\n\nRun the installer from the release page and restart the gateway service.\n\n## Uninstall\n\nRemove the folder.\n");
        this._directory.Write("docs/notes.txt", "Zebras graze on the savanna in large herds.");
        this._directory.Write("docs/page.html", "<html><head><title>Bread</title><script>var x = 1;</script></head><body><p>Knead the dough with flour and water.</p></body></html>");
        this._directory.Write("docs/empty.txt", "");
        File.WriteAllBytes(this._directory.Combine("docs", "broken.pdf"), [0x25, 0x50, 0x44, 0x46, 0x2D, 0x31, 0x00, 0xFF, 0x13]);
        File.WriteAllBytes(this._directory.Combine("docs", "binary.txt"), [0x7F, 0x45, 0x4C, 0x46, 0x00, 0x00, 0x01, 0x02]);
        this._directory.Write("docs/video.mp4", "not indexed");

        using var store = EmbeddedPassageStore.Open(this._directory.Combine("store"));
        var collection = await this.CollectionAsync(store);
        var summary = await IngestPipeline.Create(miniLm.Generator, collection).IndexFilesAsync([docs], cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(6, summary.FilesFound);
        Assert.Equal(1, summary.UnsupportedFiles);
        Assert.Equal(2, summary.Failures.Count);
        Assert.Contains(summary.Failures, f => f.Path.EndsWith("broken.pdf", StringComparison.Ordinal));
        Assert.Contains(summary.Failures, f => f.Path.EndsWith("binary.txt", StringComparison.Ordinal) && f.Reason.Contains("binary", StringComparison.Ordinal));
        Assert.Equal(4, summary.DocumentsNew);
        Assert.Equal(1, summary.DocumentsEmpty);
        Assert.False(summary.Succeeded);

        var hits = await collection.SearchAsync(new SearchRequest(SearchMode.Hybrid, 3) { Vector = await this.QueryAsync("how do I install it"), Text = "how do I install it" }, TestContext.Current.CancellationToken);
        var install = hits[0].Passage;
        Assert.Equal("Guide > Install", install.SectionPath);
        Assert.Contains("installer", install.Text, StringComparison.Ordinal);
        Assert.Equal("Guide", install.Title);
        string original = File.ReadAllText(this._directory.Combine("docs", "guide.md"));
        Assert.Equal(install.Text, original.Substring(install.Start, install.Length));

        var bread = await collection.SearchAsync(new SearchRequest(SearchMode.Keyword, 3) { Text = "dough" }, TestContext.Current.CancellationToken);
        Assert.Equal("Bread", Assert.Single(bread).Passage.Title);
        Assert.Empty(await collection.SearchAsync(new SearchRequest(SearchMode.Keyword, 3) { Text = "var" }, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task ReindexingSkipsUnchangedReplacesChangedAndPrunesOnlyWhatIsGone()
    {
        string docs = this._directory.Combine("docs");
        var files = TestCorpus.WriteMarkdown(docs, TestCorpus.Records(12));
        using var store = EmbeddedPassageStore.Open(this._directory.Combine("store"));
        var collection = await this.CollectionAsync(store);
        var options = new IngestOptions { Chunking = new ChunkingOptions { MaxTokens = 32, OverlapTokens = 4 } };
        var first = await IngestPipeline.Create(miniLm.Generator, collection, options).IndexFilesAsync([docs], cancellationToken: TestContext.Current.CancellationToken);
        long passages = (await collection.GetInfoAsync(TestContext.Current.CancellationToken)).Passages;
        Assert.Equal((12, 0, 0), (first.DocumentsNew, first.DocumentsChanged, first.DocumentsUnchanged));
        Assert.Equal(passages, first.PassagesNew);
        Assert.True(passages > 12, "several passages per document at 32 tokens");

        var again = await IngestPipeline.Create(miniLm.Generator, collection, options).IndexFilesAsync([docs], cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal((0, 0, 12), (again.DocumentsNew, again.DocumentsChanged, again.DocumentsUnchanged));
        Assert.Equal((0L, passages), (again.PassagesNew, again.PassagesUnchanged));

        // Append a paragraph: the earlier passages keep their ids and vectors; only the new tail is embedded.
        File.AppendAllText(files[3], "\nAn appended paragraph about lighthouses and their keepers.\n");
        File.Delete(files[5]);
        File.WriteAllBytes(files[7], [0x00, 0x01, 0x02, 0x03]);
        var changed = await IngestPipeline.Create(miniLm.Generator, collection, new IngestOptions { Chunking = options.Chunking, Prune = true }).IndexFilesAsync([docs], cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal((0, 1, 9), (changed.DocumentsNew, changed.DocumentsChanged, changed.DocumentsUnchanged));
        Assert.Equal(1, changed.DocumentsPruned);
        Assert.True(changed.PassagesReused > 0, "unchanged passages of the changed document reuse their vectors");
        Assert.True(changed.PassagesNew is > 0 and <= 3, $"only the changed tail is embedded ({changed.PassagesNew})");
        Assert.Single(changed.Failures);

        var documents = await collection.GetDocumentsAsync(TestContext.Current.CancellationToken);
        Assert.Equal(11, documents.Count);
        Assert.DoesNotContain(documents.Values, d => d.Source == files[5]);
        Assert.Contains(documents.Values, d => d.Source == files[7]); // failed to load: kept, not pruned
        var lighthouse = await collection.SearchAsync(new SearchRequest(SearchMode.Keyword, 1) { Text = "lighthouses keepers" }, TestContext.Current.CancellationToken);
        Assert.Equal(files[3], Assert.Single(lighthouse).Passage.Source);
    }

    [Fact]
    public async Task TagsAreStoredFilterableAndPartOfWhatChanges()
    {
        string docs = this._directory.Combine("docs");
        TestCorpus.WriteMarkdown(docs, TestCorpus.Records(3));
        using var store = EmbeddedPassageStore.Open(this._directory.Combine("store"));
        var collection = await this.CollectionAsync(store);
        var tags = new Dictionary<string, string> { ["team"] = "search", ["year"] = "2026" };
        await IngestPipeline.Create(miniLm.Generator, collection, new IngestOptions { Tags = tags }).IndexFilesAsync([docs], cancellationToken: TestContext.Current.CancellationToken);

        var filter = new PassageFilter { Tags = new Dictionary<string, string> { ["team"] = "search" } };
        var hits = await collection.SearchAsync(new SearchRequest(SearchMode.Dense, 10) { Vector = await this.QueryAsync("anything"), Filter = filter }, TestContext.Current.CancellationToken);
        Assert.Equal(3, hits.Count);
        Assert.All(hits, h => Assert.Equal(tags, h.Passage.Tags));

        var retag = await IngestPipeline.Create(miniLm.Generator, collection, new IngestOptions { Tags = new Dictionary<string, string> { ["team"] = "other" } }).IndexFilesAsync([docs], cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(3, retag.DocumentsChanged);
        Assert.Equal(0, retag.PassagesNew); // same text: vectors reused
        Assert.Empty(await collection.SearchAsync(new SearchRequest(SearchMode.Dense, 10) { Vector = await this.QueryAsync("anything"), Filter = filter }, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task JsonRecordsIndexOnePassagePerRecordWithTheirIdsAndBadLinesAreReported()
    {
        string path = this._directory.Write("records.jsonl", "{\"_id\": \"a\", \"title\": \"Alpha\", \"text\": \"first record about comets\"}\nnot json\n{\"_id\": \"b\", \"text\": \"second record about tides\"}\n");
        using var store = EmbeddedPassageStore.Open(this._directory.Combine("store"));
        var collection = await this.CollectionAsync(store);
        var options = new IngestOptions { ChunkDocuments = false, JsonRecords = new Indexer.Loading.JsonRecordLoaderOptions { QualifyIds = false } };
        var summary = await IngestPipeline.Create(miniLm.Generator, collection, options).IndexFilesAsync([path], cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(2, summary.DocumentsNew);
        Assert.Contains("line 2", Assert.Single(summary.SkippedRecords), StringComparison.Ordinal);
        Assert.Equal(["a", "b"], (await collection.GetDocumentsAsync(TestContext.Current.CancellationToken)).Keys.Order(StringComparer.Ordinal));
        var comet = await collection.SearchAsync(new SearchRequest(SearchMode.Dense, 1) { Vector = await this.QueryAsync("comets in the sky") }, TestContext.Current.CancellationToken);
        Assert.Equal("a", comet[0].Passage.DocumentId);
        Assert.Equal("Alpha", comet[0].Passage.Title);
    }

    [Fact]
    public async Task AStoreFailureWhileReadingStoredVectorsEndsTheRunInsteadOfFailingEachDocument()
    {
        // A store that cannot serve fails every later batch the same way: reporting each document as "could not be
        // embedded" would hide the cause behind a list of innocent files and a partial-failure exit.
        string docs = this._directory.Combine("docs");
        var files = TestCorpus.WriteMarkdown(docs, TestCorpus.Records(6));
        using var store = EmbeddedPassageStore.Open(this._directory.Combine("store"));
        var collection = await this.CollectionAsync(store);
        var options = new IngestOptions { Chunking = new ChunkingOptions { MaxTokens = 32, OverlapTokens = 4 } };
        await IngestPipeline.Create(miniLm.Generator, collection, options).IndexFilesAsync([docs], cancellationToken: TestContext.Current.CancellationToken);
        File.AppendAllText(files[1], "\nA new paragraph about harbours.\n");
        File.AppendAllText(files[4], "\nA new paragraph about bridges.\n");

        var busy = new VectorReadsFail(collection, new StoreWriteException(StoreWriteFault.Busy, "store busy: another process held the write lock past 2 s"));
        var failure = await Assert.ThrowsAsync<StoreWriteException>(() =>
            IngestPipeline.Create(miniLm.Generator, busy, options).IndexFilesAsync([docs], cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(FailureKind.StoreWriteFailed, failure.Kind);
        Assert.Equal(6, (await collection.GetDocumentsAsync(TestContext.Current.CancellationToken)).Count);
    }

    [Fact]
    public async Task FilesStagedUnderOtherNamesAreIndexedUnderTheirSourcesWithTheRunsTags()
    {
        // Staged as an upload is: generated names in one folder, each known by the name its sender gave.
        File.WriteAllText(this._directory.Combine("0.md"), "# Lighthouses\n\nKeepers trimmed the lamp wicks every night.\n");
        File.WriteAllBytes(this._directory.Combine("1.pdf"), [0x25, 0x50, 0x44, 0x46, 0x2D, 0x31, 0x00, 0xFF, 0x13]);
        File.WriteAllText(this._directory.Combine("2.txt"), "Tides rise twice a day.");
        List<DocumentFile> files =
        [
            new(this._directory.Combine("0.md"), "0.md") { Source = "guide/lighthouses.md" },
            new(this._directory.Combine("1.pdf"), "1.pdf") { Source = "scans/broken.pdf" },
            new(this._directory.Combine("2.txt"), "2.txt") { Source = "tides.txt" },
        ];
        using var store = EmbeddedPassageStore.Open(this._directory.Combine("store"));
        var collection = await this.CollectionAsync(store);
        var pipeline = IngestPipeline.Create(miniLm.Generator, collection);
        var tags = new Dictionary<string, string> { ["team"] = "harbour" };

        var first = await pipeline.IndexFilesAsync(files, tags, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal((3, 2), (first.FilesFound, first.DocumentsNew));
        var (failed, reason) = Assert.Single(first.Failures);
        Assert.Equal("scans/broken.pdf", failed);
        Assert.DoesNotContain(this._directory.Path, reason, StringComparison.Ordinal);
        var documents = await collection.GetDocumentsAsync(TestContext.Current.CancellationToken);
        Assert.Equal(["guide/lighthouses.md", "tides.txt"], documents.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("guide/lighthouses.md", documents["guide/lighthouses.md"].Source);
        var hit = Assert.Single(await collection.SearchAsync(new SearchRequest(SearchMode.Keyword, 3) { Text = "wicks", Filter = new PassageFilter { Tags = tags } }, TestContext.Current.CancellationToken)).Passage;
        Assert.Equal(("guide/lighthouses.md", "guide/lighthouses.md", "harbour"), (hit.DocumentId, hit.Source, hit.Tags["team"]));

        // The same names and content again: unchanged, wherever the files are staged this time; other tags: changed.
        string elsewhere = this._directory.Combine("elsewhere");
        Directory.CreateDirectory(elsewhere);
        File.Copy(this._directory.Combine("0.md"), Path.Combine(elsewhere, "7.md"));
        List<DocumentFile> again = [new(Path.Combine(elsewhere, "7.md"), "7.md") { Source = "guide/lighthouses.md" }];
        Assert.Equal(1, (await pipeline.IndexFilesAsync(again, tags, cancellationToken: TestContext.Current.CancellationToken)).DocumentsUnchanged);
        var retagged = await pipeline.IndexFilesAsync(again, new Dictionary<string, string> { ["team"] = "coast" }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(1, retagged.DocumentsChanged);
        Assert.Empty(await collection.SearchAsync(new SearchRequest(SearchMode.Keyword, 3) { Text = "wicks", Filter = new PassageFilter { Tags = tags } }, TestContext.Current.CancellationToken));
    }

    private async Task<IPassageCollection> CollectionAsync(EmbeddedPassageStore store) =>
        await store.OpenOrCreateCollectionAsync("kb", new CollectionSettings(miniLm.Generator.Dimensions, miniLm.Generator.Model.ModelId), TestContext.Current.CancellationToken);

    private async Task<float[]> QueryAsync(string text) =>
        (await miniLm.Generator.GenerateAsync([text], new Microsoft.Extensions.AI.EmbeddingGenerationOptions().WithInputKind(EmbeddingInputKind.Query), TestContext.Current.CancellationToken))[0].Vector.ToArray();
}

/// <summary>A real collection whose stored-vector reads fail as a store that cannot serve does.</summary>
internal sealed class VectorReadsFail(IPassageCollection inner, Exception failure) : IPassageCollection
{
    public string Name => inner.Name;

    public CollectionSettings Settings => inner.Settings;

    public Task<CollectionInfo> GetInfoAsync(CancellationToken cancellationToken = default) => inner.GetInfoAsync(cancellationToken);

    public Task<IReadOnlyDictionary<string, DocumentRecord>> GetDocumentsAsync(CancellationToken cancellationToken = default) => inner.GetDocumentsAsync(cancellationToken);

    public Task<DocumentRecord?> GetDocumentAsync(string documentId, CancellationToken cancellationToken = default) => inner.GetDocumentAsync(documentId, cancellationToken);

    public Task<IReadOnlyDictionary<string, float[]>> GetVectorsAsync(IReadOnlyCollection<string> passageIds, CancellationToken cancellationToken = default) => Task.FromException<IReadOnlyDictionary<string, float[]>>(failure);

    public Task<IReadOnlyList<StoredPassage>> GetPassagesAsync(IReadOnlyCollection<string> passageIds, bool includeVectors, CancellationToken cancellationToken = default) => inner.GetPassagesAsync(passageIds, includeVectors, cancellationToken);

    public Task<IReadOnlyList<StoredPassage>> ListPassagesAsync(PassageListRequest request, CancellationToken cancellationToken = default) => inner.ListPassagesAsync(request, cancellationToken);

    public Task UpsertDocumentsAsync(IReadOnlyList<DocumentUpdate> updates, CancellationToken cancellationToken = default) => inner.UpsertDocumentsAsync(updates, cancellationToken);

    public Task<int> DeleteDocumentsAsync(IReadOnlyCollection<string> documentIds, CancellationToken cancellationToken = default) => inner.DeleteDocumentsAsync(documentIds, cancellationToken);

    public Task<IReadOnlyList<SearchHit>> SearchAsync(SearchRequest request, CancellationToken cancellationToken = default) => inner.SearchAsync(request, cancellationToken);

    public Task<BulkWriteSession> BeginBulkWriteAsync(Func<string, Func<Task>, Task>? slowStep = null, CancellationToken cancellationToken = default) => inner.BeginBulkWriteAsync(slowStep, cancellationToken);

    public void Dispose()
    {
    }
}
