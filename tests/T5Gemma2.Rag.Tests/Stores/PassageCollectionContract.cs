using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Indexer.Stores;

namespace T5Gemma2.Rag.Tests.Stores;

/// <summary>
/// What every <see cref="IPassageStore"/> must do, whatever holds the data: derive a test class, give it a fresh
/// store, and it runs these cases (the embedded store here; Qdrant when a server is configured).
/// </summary>
public abstract class PassageCollectionContract
{
    protected const int Dimensions = 8;

    private static readonly CollectionSettings s_settings = new(Dimensions, "contract-model");

    /// <summary>A fresh, empty store; null when the implementation cannot run here (the test then says why and skips).</summary>
    protected abstract IPassageStore? CreateStore(out string? skipReason);

    [Fact]
    public async Task EmptyCollectionFindsNothingInAnyMode()
    {
        using var store = this.Store();
        var collection = await store.OpenOrCreateCollectionAsync("empty", s_settings, TestContext.Current.CancellationToken);
        foreach (var mode in Enum.GetValues<SearchMode>())
        {
            Assert.Empty(await collection.SearchAsync(Query(mode, Axis(0), "anything", 5), TestContext.Current.CancellationToken));
        }

        var info = await collection.GetInfoAsync(TestContext.Current.CancellationToken);
        Assert.Equal((0, 0), (info.Documents, info.Passages));
        Assert.Empty(await collection.GetDocumentsAsync(TestContext.Current.CancellationToken));
        Assert.Contains("empty", await store.ListCollectionsAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task DenseSearchRanksByCosineAndKeywordByTerms()
    {
        using var store = this.Store();
        var collection = await store.OpenOrCreateCollectionAsync("search", s_settings, TestContext.Current.CancellationToken);
        await collection.UpsertDocumentsAsync(
        [
            Update("a", ("the quick brown fox jumps over the lazy dog", Axis(0))),
            Update("b", ("zebras graze on the savanna; zebras run", Mix(1, 0, 0.2f))),
            Update("c", ("a recipe for bread with flour and water", Axis(2))),
        ], TestContext.Current.CancellationToken);

        var dense = await collection.SearchAsync(Query(SearchMode.Dense, Mix(1, 2, 0.1f), null, 3), TestContext.Current.CancellationToken);
        Assert.Equal(["b", "c", "a"], dense.Select(h => h.Passage.DocumentId));
        Assert.Equal(Cosine(Mix(1, 2, 0.1f), Mix(1, 0, 0.2f)), dense[0].Score, 4);
        Assert.True(dense[0].Score > dense[1].Score && dense[1].Score >= dense[2].Score);

        var keyword = await collection.SearchAsync(Query(SearchMode.Keyword, null, "zebras savanna", 3), TestContext.Current.CancellationToken);
        Assert.Equal("b", Assert.Single(keyword).Passage.DocumentId);

        // Words are matched after stemming and without FTS5 syntax: quotes, operators and stars are plain text.
        var odd = await collection.SearchAsync(Query(SearchMode.Keyword, null, "\"BREAD\" AND NEAR( flour* -water OR", 3), TestContext.Current.CancellationToken);
        Assert.Equal("c", odd[0].Passage.DocumentId);
        Assert.Empty(await collection.SearchAsync(Query(SearchMode.Keyword, null, "  ;;; ", 3), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task HybridPutsWhatBothRankingsAgreeOnFirst()
    {
        using var store = this.Store();
        var collection = await store.OpenOrCreateCollectionAsync("hybrid", s_settings, TestContext.Current.CancellationToken);
        await collection.UpsertDocumentsAsync(
        [
            Update("dense-only", ("nothing in common here", Axis(3))),
            Update("both", ("solar panels convert sunlight; solar panels last", Mix(3, 4, 0.5f))),
            Update("keyword-only", ("solar farms and wind", Axis(5))),
        ], TestContext.Current.CancellationToken);

        var hits = await collection.SearchAsync(Query(SearchMode.Hybrid, Axis(3), "solar panels", 3), TestContext.Current.CancellationToken);
        Assert.Equal("both", hits[0].Passage.DocumentId);
        Assert.Equal(3, hits.Count);
        Assert.NotNull(hits[0].DenseRank);
        Assert.NotNull(hits[0].KeywordRank);
        Assert.Null(hits.Single(h => h.Passage.DocumentId == "dense-only").KeywordRank);
    }

    [Fact]
    public async Task UpsertReplacesADocumentsPassagesAndDeleteRemovesThem()
    {
        using var store = this.Store();
        var collection = await store.OpenOrCreateCollectionAsync("replace", s_settings, TestContext.Current.CancellationToken);
        await collection.UpsertDocumentsAsync([Update("doc", ("alpha first", Axis(0)), ("beta second", Axis(1)), ("gamma third", Axis(2)))], TestContext.Current.CancellationToken);
        await collection.UpsertDocumentsAsync([Update("other", ("delta kept", Axis(4)))], TestContext.Current.CancellationToken);
        await collection.UpsertDocumentsAsync([Update("doc", ("alpha first", Axis(0)), ("epsilon new", Axis(6)))], TestContext.Current.CancellationToken);

        var info = await collection.GetInfoAsync(TestContext.Current.CancellationToken);
        Assert.Equal((2, 3), (info.Documents, info.Passages));
        Assert.Empty(await collection.SearchAsync(Query(SearchMode.Keyword, null, "gamma beta", 5), TestContext.Current.CancellationToken));
        var dense = await collection.SearchAsync(Query(SearchMode.Dense, Axis(2), null, 10), TestContext.Current.CancellationToken);
        Assert.Equal(3, dense.Count);
        Assert.DoesNotContain(dense, h => h.Passage.Text.Contains("gamma", StringComparison.Ordinal));
        Assert.Equal(2, (await collection.GetDocumentsAsync(TestContext.Current.CancellationToken))["doc"].PassageCount);

        Assert.Equal(1, await collection.DeleteDocumentsAsync(["doc", "missing"], TestContext.Current.CancellationToken));
        var left = await collection.SearchAsync(Query(SearchMode.Hybrid, Axis(0), "alpha epsilon delta", 10), TestContext.Current.CancellationToken);
        Assert.Equal("other", Assert.Single(left).Passage.DocumentId);
        Assert.Equal(0, await collection.DeleteDocumentsAsync(["doc"], TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task FiltersApplyInEveryMode()
    {
        using var store = this.Store();
        var collection = await store.OpenOrCreateCollectionAsync("filters", s_settings, TestContext.Current.CancellationToken);
        var early = DateTimeOffset.UtcNow.AddDays(-2);
        var late = DateTimeOffset.UtcNow;
        await collection.UpsertDocumentsAsync(
        [
            Update("docs/a.md", early, new Dictionary<string, string> { ["team"] = "red", ["lang"] = "en" }, ("shared words about rockets", Axis(0))),
            Update("docs/b.md", late, new Dictionary<string, string> { ["team"] = "blue", ["lang"] = "en" }, ("shared words about rockets too", Mix(0, 1, 0.3f))),
            Update("notes/c.txt", late, new Dictionary<string, string> { ["team"] = "red" }, ("shared words about rockets again", Mix(0, 2, 0.6f))),
        ], TestContext.Current.CancellationToken);

        (PassageFilter Filter, string[] Expected)[] cases =
        [
            (new PassageFilter { DocumentIds = ["docs/a.md", "notes/c.txt"] }, ["docs/a.md", "notes/c.txt"]),
            (new PassageFilter { SourcePrefix = "/src/docs/" }, ["docs/a.md", "docs/b.md"]),
            (new PassageFilter { Tags = new Dictionary<string, string> { ["team"] = "red" } }, ["docs/a.md", "notes/c.txt"]),
            (new PassageFilter { Tags = new Dictionary<string, string> { ["team"] = "red", ["lang"] = "en" } }, ["docs/a.md"]),
            (new PassageFilter { IndexedAfter = late.AddMinutes(-1) }, ["docs/b.md", "notes/c.txt"]),
            (new PassageFilter { SourcePrefix = "/src/docs/", IndexedAfter = late.AddMinutes(-1) }, ["docs/b.md"]),
            (new PassageFilter { Tags = new Dictionary<string, string> { ["team"] = "green" } }, []),
        ];
        foreach (var (filter, expected) in cases)
        {
            foreach (var mode in Enum.GetValues<SearchMode>())
            {
                var hits = await collection.SearchAsync(new SearchRequest(mode, 10) { Vector = Axis(0), Text = "rockets", Filter = filter }, TestContext.Current.CancellationToken);
                Assert.Equal(expected, hits.Select(h => h.Passage.DocumentId).Order(StringComparer.Ordinal));
            }
        }
    }

    [Fact]
    public async Task OneDocumentIsFoundByItsExactIdAndNoCharacterOfAnIdIsAPattern()
    {
        var ct = TestContext.Current.CancellationToken;
        using var store = this.Store();
        var collection = await store.OpenOrCreateCollectionAsync("lookup", s_settings, ct);
        var indexedAt = DateTimeOffset.FromUnixTimeMilliseconds(1_767_225_600_000);
        string[] ids = ["docs/a%b.md", "docs/a_b.md", "docs/it's \"quoted\".md", "docs/star*.md", "docs/q?.md"];
        await collection.UpsertDocumentsAsync([.. ids.Select((id, i) => Update(id, indexedAt, null, [.. Enumerable.Range(0, i + 1).Select(p => ($"passage {p} of {id}", Axis(p)))]))], ct);

        // Present: each id finds its own record (its passage count tells them apart).
        for (int i = 0; i < ids.Length; i++)
        {
            var record = await collection.GetDocumentAsync(ids[i], ct);
            Assert.NotNull(record);
            Assert.Equal((ids[i], "/src/" + ids[i], i + 1, indexedAt), (record.DocumentId, record.Source, record.PassageCount, record.IndexedAt));
            Assert.Equal((await collection.GetDocumentsAsync(ct))[ids[i]], record);
        }

        // Absent: ids that would match stored ones as a LIKE or glob pattern, in another case, as a prefix, or as SQL.
        string[] absent = ["docs/a%", "%", "docs/a_b_md", "docs/star_.md", "docs/star?.md", "docs/*", "*", "docs/q_.md", "docs/it_s \"quoted\".md", "DOCS/A_B.MD", "docs/a%b.md ", "docs/it's", "' OR '1'='1", "docs/a_b.md' OR 'x'='x"];
        foreach (string id in absent)
        {
            Assert.Null(await collection.GetDocumentAsync(id, ct));
        }

        // Deleted: gone, and only it.
        Assert.Equal(1, await collection.DeleteDocumentsAsync(["docs/a_b.md"], ct));
        Assert.Null(await collection.GetDocumentAsync("docs/a_b.md", ct));
        Assert.Equal(1, (await collection.GetDocumentAsync("docs/a%b.md", ct))?.PassageCount);
    }

    [Fact]
    public async Task LargeBatchesRoundTripVectorsAndMetadata()
    {
        using var store = this.Store();
        var collection = await store.OpenOrCreateCollectionAsync("large", s_settings, TestContext.Current.CancellationToken);
        var random = new Random(7);
        var updates = Enumerable.Range(0, 500)
            .Select(d => Update($"doc-{d}", [.. Enumerable.Range(0, 10).Select(p => ($"document {d} passage {p} token{d * 10 + p}", RandomVector(random)))]))
            .ToList();
        await collection.UpsertDocumentsAsync(updates, TestContext.Current.CancellationToken);
        Assert.Equal(5000, (await collection.GetInfoAsync(TestContext.Current.CancellationToken)).Passages);

        var probe = updates[321].Passages[4];
        var nearest = await collection.SearchAsync(Query(SearchMode.Dense, probe.Vector.ToArray(), null, 1), TestContext.Current.CancellationToken);
        Assert.Equal(probe.Passage.Id, nearest[0].Passage.Id);
        Assert.Equal(1.0, nearest[0].Score, 4);
        var found = nearest[0].Passage;
        Assert.Equal((probe.Passage.Text, probe.Passage.Source, probe.Passage.SectionPath, probe.Passage.Page, probe.Passage.ChunkIndex, probe.Passage.ContentHash),
            (found.Text, found.Source, found.SectionPath, found.Page, found.ChunkIndex, found.ContentHash));

        var keyword = await collection.SearchAsync(Query(SearchMode.Keyword, null, "token3214", 3), TestContext.Current.CancellationToken);
        Assert.Equal(probe.Passage.Id, Assert.Single(keyword).Passage.Id);

        var vectors = await collection.GetVectorsAsync([probe.Passage.Id, "00000000-0000-0000-0000-000000000000"], TestContext.Current.CancellationToken);
        Assert.Equal(probe.Passage.Id, Assert.Single(vectors).Key);
        Assert.Equal(1.0, Cosine(vectors[probe.Passage.Id], probe.Vector.ToArray()), 5);
    }

    [Fact]
    public async Task WrongDimensionsAndModelsAreRefused()
    {
        using var store = this.Store();
        var collection = await store.OpenOrCreateCollectionAsync("dims", s_settings, TestContext.Current.CancellationToken);
        var wrong = Update("x", ("text", new float[Dimensions + 1]));
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => collection.UpsertDocumentsAsync([wrong], TestContext.Current.CancellationToken));
        Assert.Contains("9-dimension", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => collection.SearchAsync(Query(SearchMode.Dense, new float[3], null, 1), TestContext.Current.CancellationToken));
        var other = await Assert.ThrowsAsync<ModelMismatchException>(() => store.OpenOrCreateCollectionAsync("dims", new CollectionSettings(16, "another-model"), TestContext.Current.CancellationToken));
        Assert.Contains("another-model", other.Message, StringComparison.Ordinal);
        Assert.Equal(0, (await collection.GetInfoAsync(TestContext.Current.CancellationToken)).Passages);
        Assert.True(await store.DeleteCollectionAsync("dims", TestContext.Current.CancellationToken));
        Assert.Null(await store.OpenCollectionAsync("dims", TestContext.Current.CancellationToken));
        Assert.False(await store.DeleteCollectionAsync("dims", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task TheQueryAndPassagePromptsAreRecordedAndOtherPromptsRefused()
    {
        var token = TestContext.Current.CancellationToken;
        var prompted = new CollectionSettings(Dimensions, "contract-model", "task: search result | query: ", "title: none | text: ");
        using var reopened = this.Store();
        (await reopened.OpenOrCreateCollectionAsync("prompts", prompted, token)).Dispose();
        (await reopened.OpenOrCreateCollectionAsync("unrecorded", s_settings, token)).Dispose();

        var collection = await reopened.OpenCollectionAsync("prompts", token);
        Assert.Equal(prompted, collection!.Settings);
        var other = await Assert.ThrowsAsync<ModelMismatchException>(() => reopened.OpenOrCreateCollectionAsync("prompts", prompted with { QueryPrompt = "query: " }, token));
        Assert.Contains("with the query prompt \"task: search result | query: \"; the model given uses \"query: \"", other.Message, StringComparison.Ordinal);

        // A collection made without recorded prompts (as before they were recorded) takes any: nothing to compare.
        var unrecorded = await reopened.OpenOrCreateCollectionAsync("unrecorded", prompted, token);
        Assert.Null(unrecorded.Settings.QueryPrompt);
    }

    [Fact]
    public async Task ImagePassagesKeepTheirKindAndImageBytesInEveryMode()
    {
        var token = TestContext.Current.CancellationToken;
        using var store = this.Store();
        var collection = await store.OpenOrCreateCollectionAsync("images", s_settings, token);
        byte[] png = [0x89, (byte)'P', (byte)'N', (byte)'G', 0, 1, 2, 255, 254];
        var update = Update("doc.pdf", ("the text of page one", Axis(0)), ("figure caption", Axis(1)));
        var image = update.Passages[1].Passage;
        var withImage = new StoredPassage(new Passage
        {
            Id = image.Id, DocumentId = image.DocumentId, Source = image.Source, Page = 1, ChunkIndex = image.ChunkIndex, Text = image.Text,
            ContentHash = image.ContentHash, IndexedAt = image.IndexedAt, Kind = PassageKind.Image, Image = new PassageImage("image/png", png),
        }, update.Passages[1].Vector);
        await collection.UpsertDocumentsAsync([update with { Passages = [update.Passages[0], withImage] }], token);

        var dense = await collection.SearchAsync(Query(SearchMode.Dense, Axis(1), null, 2), token);
        var keyword = await collection.SearchAsync(Query(SearchMode.Keyword, null, "caption", 1), token);
        var hybrid = await collection.SearchAsync(Query(SearchMode.Hybrid, Axis(1), "caption", 2), token);

        foreach (var found in new[] { dense[0].Passage, keyword[0].Passage, hybrid[0].Passage })
        {
            Assert.Equal(image.Id, found.Id);
            Assert.Equal(PassageKind.Image, found.Kind);
            Assert.Equal("image/png", found.Image!.MediaType);
            Assert.Equal(png, found.Image.Data);
            Assert.Equal((1, "figure caption"), (found.Page, found.Text));
        }

        Assert.Equal(PassageKind.Text, dense[1].Passage.Kind);
        Assert.Null(dense[1].Passage.Image);
    }

    protected IPassageStore Store()
    {
        var store = this.CreateStore(out string? reason);
        if (store is null)
        {
            Assert.Skip(reason ?? "this store cannot run here");
        }

        return store;
    }

    protected static SearchRequest Query(SearchMode mode, float[]? vector, string? text, int top) =>
        new(mode, top) { Vector = vector ?? Axis(0), Text = text ?? string.Empty };

    protected static DocumentUpdate Update(string documentId, params (string Text, float[] Vector)[] passages) =>
        Update(documentId, DateTimeOffset.UtcNow, null, passages);

    protected static DocumentUpdate Update(string documentId, DateTimeOffset indexedAt, IReadOnlyDictionary<string, string>? tags, params (string Text, float[] Vector)[] passages)
    {
        var stored = passages.Select((p, i) =>
        {
            string hash = PassageIds.ContentHash(p.Text);
            var passage = new Passage
            {
                Id = PassageIds.Create(documentId, i, hash),
                DocumentId = documentId,
                Source = "/src/" + documentId,
                Title = "title of " + documentId,
                SectionPath = i % 2 == 0 ? "Intro > Part" : null,
                Page = i % 3 == 0 ? i + 1 : null,
                Start = i * 100,
                Length = p.Text.Length,
                ChunkIndex = i,
                Text = p.Text,
                ContentHash = hash,
                TokenCount = p.Text.Split(' ').Length,
                Tags = tags ?? new Dictionary<string, string>(),
                IndexedAt = indexedAt,
            };
            return new StoredPassage(passage, p.Vector);
        }).ToList();
        return new DocumentUpdate(new DocumentRecord(documentId, "/src/" + documentId, PassageIds.ContentHash(string.Join("\n", passages.Select(p => p.Text))), stored.Count, indexedAt), stored);
    }

    protected static float[] Axis(int i)
    {
        var v = new float[Dimensions];
        v[i] = 1;
        return v;
    }

    protected static float[] Mix(int i, int j, float weight)
    {
        var v = Axis(i);
        v[j] += weight;
        return v;
    }

    protected static float[] RandomVector(Random random) => [.. Enumerable.Range(0, Dimensions).Select(_ => (float)(random.NextDouble() - 0.5))];

    protected static double Cosine(float[] a, float[] b) =>
        a.Zip(b).Sum(p => (double)p.First * p.Second) / Math.Sqrt(a.Sum(x => (double)x * x) * b.Sum(x => (double)x * x));
}
