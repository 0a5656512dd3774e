using System.Linq.Expressions;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Indexer.VectorData;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.VectorData;

/// <summary>
/// Microsoft.Extensions.VectorData's documented semantics, run against each of our stores through the same connector:
/// derive a class, give it a fresh store (null with a reason to skip), and it runs these cases. Expected results come
/// from .NET itself (LINQ to objects over the same records, cosine computed here), never from the code under test.
/// </summary>
public abstract class VectorStoreContract(SharedMiniLm miniLm)
{
    private static readonly DateTimeOffset s_epoch = new(2024, 5, 17, 9, 30, 15, TimeSpan.FromHours(2));

    /// <summary>A fresh, empty store; null when it cannot run here (the test then says why and skips).</summary>
    protected abstract IPassageStore? CreateStore(out string? skipReason);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static List<Hotel> Hotels() =>
    [
        NewHotel("h1", "Harbor View", "a quiet hotel by the harbor with sea views", 5, 210.5, open: true, s_epoch.AddDays(-400).AddTicks(1234567), ["sea", "quiet"], 1, 0, 0, 0),
        NewHotel("h2", "Old Mill", "rooms in a restored mill beside the river", 3, null, open: true, s_epoch.AddDays(-20), ["river", "historic"], 0.9f, 0.3f, 0, 0),
        NewHotel("h3", null, "budget beds near the station", 2, 49, open: false, s_epoch.AddDays(-3), [], 0, 1, 0, 0),
        NewHotel("h4", "Summit Lodge", "a mountain lodge with ski access and sauna", 4, 180, open: true, s_epoch.AddDays(10), ["mountain", "quiet", "ski"], 0, 0, 1, 0),
        NewHotel("h5", "Quay Rooms", "small rooms on the quay, harbor cruises nearby", 3, 95.25, open: false, s_epoch, ["sea"], 0.7f, 0, 0.7f, 0),
        NewHotel("h6", "Station Inn", "an inn by the station with a late bar", 1, 39.99, open: true, s_epoch.AddHours(1), ["bar"], 0, 0, 0, 1),
    ];

    [Fact]
    public async Task RecordsRoundTripThroughUpsertGetAndDelete()
    {
        using var store = this.Store();
        using var vectors = new T5Gemma2VectorStore(store);
        var hotels = vectors.GetCollection<string, Hotel>("hotels");
        Assert.False(await hotels.CollectionExistsAsync(Token));
        await hotels.EnsureCollectionExistsAsync(Token);
        await hotels.EnsureCollectionExistsAsync(Token); // a second time is a no-op
        Assert.True(await hotels.CollectionExistsAsync(Token));
        Assert.Contains("hotels", await vectors.ListCollectionNamesAsync(Token).ToListAsync(Token));

        var written = Hotels()[0];
        await hotels.UpsertAsync(written, Token);
        var read = await hotels.GetAsync("h1", cancellationToken: Token);
        AssertSame(written, read, withVector: false);
        Assert.True(read!.Embedding.IsEmpty); // vectors only when asked for

        var withVector = await hotels.GetAsync("h1", new RecordRetrievalOptions { IncludeVectors = true }, Token);
        Assert.Equal(Normalized(written.Embedding.Span), withVector!.Embedding.ToArray(), new FloatTolerance(1e-5f));

        // An upsert of the same key replaces the record.
        written.Rating = 4;
        written.Tags = ["sea"];
        written.Price = null;
        await hotels.UpsertAsync(written, Token);
        AssertSame(written, await hotels.GetAsync("h1", cancellationToken: Token), withVector: false);

        await hotels.DeleteAsync("h1", Token);
        Assert.Null(await hotels.GetAsync("h1", cancellationToken: Token));
        await hotels.DeleteAsync("h1", Token); // deleting what is not there is no error
        Assert.Null(await hotels.GetAsync("never-written", cancellationToken: Token));

        await hotels.EnsureCollectionDeletedAsync(Token);
        Assert.False(await hotels.CollectionExistsAsync(Token));
        await hotels.EnsureCollectionDeletedAsync(Token);
    }

    [Fact]
    public async Task BatchesUpsertGetAndDeleteManyRecords()
    {
        using var store = this.Store();
        var hotels = await FilledAsync(store);
        var found = await hotels.GetAsync(["h5", "missing", "h2", "h5"], cancellationToken: Token).ToListAsync(Token);
        Assert.Equal(["h5", "h2"], found.Select(h => h.HotelId));

        await hotels.DeleteAsync(["h1", "h2", "nope"], Token);
        var left = await hotels.GetAsync(Hotels().Select(h => h.HotelId), cancellationToken: Token).ToListAsync(Token);
        Assert.Equal(["h3", "h4", "h5", "h6"], left.Select(h => h.HotelId));
    }

    [Fact]
    public async Task SearchRanksByCosineSimilarityWithTopSkipAndThreshold()
    {
        using var store = this.Store();
        var hotels = await FilledAsync(store);
        ReadOnlyMemory<float> query = new float[] { 1, 0.2f, 0.1f, 0 };
        var expected = Hotels().Select(h => (h.HotelId, Score: Cosine(query.Span, h.Embedding.Span))).OrderByDescending(h => h.Score).ToList();

        var top3 = await hotels.SearchAsync(query, 3, cancellationToken: Token).ToListAsync(Token);
        Assert.Equal(expected.Take(3).Select(e => e.HotelId), top3.Select(r => r.Record.HotelId));
        Assert.Equal(expected.Take(3).Select(e => e.Score), top3.Select(r => r.Score!.Value), new DoubleTolerance(1e-4));

        var page2 = await hotels.SearchAsync(query, 2, new VectorSearchOptions<Hotel> { Skip = 2 }, Token).ToListAsync(Token);
        Assert.Equal(expected.Skip(2).Take(2).Select(e => e.HotelId), page2.Select(r => r.Record.HotelId));

        double threshold = (expected[1].Score + expected[2].Score) / 2;
        var above = await hotels.SearchAsync(query, 6, new VectorSearchOptions<Hotel> { ScoreThreshold = threshold }, Token).ToListAsync(Token);
        Assert.Equal(expected.Take(2).Select(e => e.HotelId), above.Select(r => r.Record.HotelId));

        var withVectors = await hotels.SearchAsync(query, 1, new VectorSearchOptions<Hotel> { IncludeVectors = true }, Token).SingleAsync(Token);
        Assert.Equal(Normalized(Hotels().Single(h => h.HotelId == expected[0].HotelId).Embedding.Span), withVectors.Record.Embedding.ToArray(), new FloatTolerance(1e-5f));

        var filtered = await hotels.SearchAsync(query, 6, new VectorSearchOptions<Hotel> { Filter = h => h.Open && h.Rating >= 3 }, Token).ToListAsync(Token);
        Assert.Equal(expected.Where(e => Hotels().Single(h => h.HotelId == e.HotelId) is { Open: true, Rating: >= 3 }).Select(e => e.HotelId), filtered.Select(r => r.Record.HotelId));

        await Assert.ThrowsAsync<ArgumentException>(async () => await hotels.SearchAsync(new float[] { 1, 2 }, 3, cancellationToken: Token).ToListAsync(Token));
        await Assert.ThrowsAsync<NotSupportedException>(async () => await hotels.SearchAsync("text without a generator", 3, cancellationToken: Token).ToListAsync(Token));
    }

    [Fact]
    public async Task FiltersOfEveryKindSelectWhatLinqToObjectsSelects()
    {
        using var store = this.Store();
        var hotels = await FilledAsync(store);
        var after = s_epoch.AddDays(-5);
        string wanted = "Old Mill";
        string[] names = ["Harbor View", "Station Inn", "Nowhere"];
        string[] keys = ["h2", "h6"];
        int[] ratings = [1, 5];
        int cheap = 49; // a whole number against a double property: compared as the number it is, in both stores
        string[] manyKeys = [.. Enumerable.Range(0, 400).Select(i => $"absent-{i}"), "h3", "h5"];
        List<Expression<Func<Hotel, bool>>> filters =
        [
            h => h.Name == "Harbor View",
            h => h.Name == wanted,
            h => h.Name != "Harbor View",
            h => h.Name == null,
            h => h.Name != null,
            h => h.Rating == 3,
            h => h.Rating > 3,
            h => 3 >= h.Rating,
            h => h.Price < 100,
            h => h.Price >= 95.25,
            h => h.Price == 210.5,
            h => h.Price == null,
            h => h.Price.HasValue,
            h => !(h.Price > 100),
            h => h.Open,
            h => !h.Open,
            h => h.Open == false,
            h => h.Opened > after,
            h => h.Opened <= s_epoch,
            h => h.Opened == s_epoch,
            h => h.Tags.Contains("quiet"),
            h => !h.Tags.Contains("sea"),
            h => names.Contains(h.Name!),
            h => ratings.Contains(h.Rating),
            h => keys.Contains(h.HotelId),
            h => h.HotelId == "h4",
            h => h.Open && h.Rating >= 3,
            h => h.Rating == 1 || h.Tags.Contains("ski"),
            h => !(h.Open && (h.Rating > 4 || h.Tags.Contains("bar"))),
            h => (h.Price > 40 && h.Price < 200) || h.Name == null,
            h => h.Description == "budget beds near the station",
            h => h.Price == cheap,
            h => h.Price > cheap && h.Price <= 100,
            h => manyKeys.Contains(h.HotelId),
            h => h.Opened > after && (h.Tags.Contains("sea") || h.Tags.Contains("bar") || h.Tags.Contains("ski")),
        ];
        foreach (var filter in filters)
        {
            var expected = Hotels().Where(filter.Compile()).Select(h => h.HotelId).Order(StringComparer.Ordinal).ToList();
            var got = await hotels.GetAsync(filter, 100, cancellationToken: Token).Select(h => h.HotelId).ToListAsync(Token);
            Assert.True(expected.SequenceEqual(got.Order(StringComparer.Ordinal)), $"filter {filter}: expected [{string.Join(", ", expected)}], got [{string.Join(", ", got.Order(StringComparer.Ordinal))}]");
        }
    }

    [Fact]
    public async Task FiltersTheStoreCannotRunAreRefusedNamingTheConstruct()
    {
        using var store = this.Store();
        var hotels = await FilledAsync(store);
        List<(Expression<Func<Hotel, bool>> Filter, string Names)> unsupported =
        [
            (h => h.Name!.StartsWith("Harbor"), "StartsWith"),
            (h => h.Description.Length > 10, "Length"),
            (h => string.Compare(h.Name, "M", StringComparison.Ordinal) > 0, "Compare"),
            (h => h.Tags.Any(t => t == "sea"), "Any"),
            (h => h.Rating + 1 > 3, "Add"),
            (h => h.Tags == null, "list property 'Tags'"),
            (h => (int)h.Price! == 95, "converting Double? to Int32"),
        ];
        foreach (var (filter, names) in unsupported)
        {
            var error = await Assert.ThrowsAsync<NotSupportedException>(async () => await hotels.GetAsync(filter, 10, cancellationToken: Token).ToListAsync(Token));
            Assert.Contains(names, error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', error.Message);
            await Assert.ThrowsAsync<NotSupportedException>(async () => await hotels.SearchAsync(new float[] { 1, 0, 0, 0 }, 3, new VectorSearchOptions<Hotel> { Filter = filter }, Token).ToListAsync(Token));
        }
    }

    [Fact]
    public async Task FilteredGetPagesInTheOrderAsked()
    {
        using var store = this.Store();
        var hotels = await FilledAsync(store);
        var byRating = Hotels().Where(h => h.Open).OrderByDescending(h => h.Rating).ThenBy(h => h.HotelId, StringComparer.Ordinal).Select(h => h.HotelId).ToList();
        var options = new FilteredRecordRetrievalOptions<Hotel> { OrderBy = o => o.Descending(h => h.Rating) };
        Assert.Equal(byRating, await hotels.GetAsync(h => h.Open, 10, options, Token).Select(h => h.HotelId).ToListAsync(Token));

        options.Skip = 1;
        Assert.Equal(byRating.Skip(1).Take(2), await hotels.GetAsync(h => h.Open, 2, options, Token).Select(h => h.HotelId).ToListAsync(Token));

        var byOpening = Hotels().OrderBy(h => h.Opened).Select(h => h.HotelId).ToList();
        var oldestFirst = new FilteredRecordRetrievalOptions<Hotel> { OrderBy = o => o.Ascending(h => h.Opened) };
        Assert.Equal(byOpening.Take(4), await hotels.GetAsync(h => h.Rating > 0, 4, oldestFirst, Token).Select(h => h.HotelId).ToListAsync(Token));

        // A record without a value for the order field is left out (Qdrant's order_by does so; the embedded store the same).
        var byPrice = Hotels().Where(h => h.Price is not null).OrderBy(h => h.Price).Select(h => h.HotelId).ToList();
        var cheapestFirst = new FilteredRecordRetrievalOptions<Hotel> { OrderBy = o => o.Ascending(h => h.Price) };
        Assert.Equal(byPrice, await hotels.GetAsync(h => h.Rating > 0, 10, cheapestFirst, Token).Select(h => h.HotelId).ToListAsync(Token));

        // Unordered pages still partition the matches: no record twice, none left out.
        var pages = new List<string>();
        for (int skip = 0; skip < 6; skip += 4)
        {
            pages.AddRange(await hotels.GetAsync(h => h.Rating >= 1, 4, new FilteredRecordRetrievalOptions<Hotel> { Skip = skip }, Token).Select(h => h.HotelId).ToListAsync(Token));
        }

        Assert.Equal(Hotels().Select(h => h.HotelId).Order(StringComparer.Ordinal), pages.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task HybridSearchFusesKeywordsOverTheFullTextPropertyWithTheVector()
    {
        using var store = this.Store();
        var hotels = await FilledAsync(store);
        var hybrid = Assert.IsAssignableFrom<IKeywordHybridSearchable<Hotel>>(hotels);

        // The vector points at h4 (mountain), the keywords at the harbor hotels: both rankings reach the top.
        var found = await hybrid.HybridSearchAsync(new float[] { 0, 0, 1, 0 }, ["harbor", "cruises"], 3, cancellationToken: Token).ToListAsync(Token);
        Assert.Equal("h5", found[0].Record.HotelId); // second in the vector ranking, first in the keyword one
        Assert.Contains(found, r => r.Record.HotelId == "h4");
        Assert.Contains(found, r => r.Record.HotelId == "h1");

        var filtered = await hybrid.HybridSearchAsync(new float[] { 0, 0, 1, 0 }, ["harbor"], 3, new HybridSearchOptions<Hotel> { Filter = h => h.Open }, Token).ToListAsync(Token);
        Assert.All(filtered, r => Assert.True(r.Record.Open));
        Assert.DoesNotContain(filtered, r => r.Record.HotelId == "h5");
    }

    [Fact]
    public async Task AStringVectorPropertyIsEmbeddedByTheEmbeddingGenerator()
    {
        using var store = this.Store();
        using var vectors = new T5Gemma2VectorStore(store, options: new T5Gemma2VectorStoreOptions { EmbeddingGenerator = miniLm.Generator });
        var notes = vectors.GetCollection<Guid, Note>("notes");
        await notes.EnsureCollectionExistsAsync(Token);
        string[] texts = ["The cat sat on the warm windowsill all afternoon.", "Quarterly revenue grew by twelve percent.", "Rotate the API keys every ninety days."];
        var written = texts.Select(t => new Note { Text = t, Topic = t.Contains("keys", StringComparison.Ordinal) ? "security" : "other", Embedding = t }).ToList();
        await notes.UpsertAsync(written, Token);
        Assert.All(written, n => Assert.NotEqual(Guid.Empty, n.Id)); // keys generated and written back

        // The same text searched for comes back first with cosine ~1: it was embedded by the same generator.
        var hit = await notes.SearchAsync(texts[2], 3, cancellationToken: Token).FirstAsync(Token);
        Assert.Equal(written[2].Id, hit.Record.Id);
        Assert.Equal(1.0, hit.Score!.Value, 3);
        var paraphrase = await notes.SearchAsync("a kitten resting by the window", 1, cancellationToken: Token).SingleAsync(Token);
        Assert.Equal(written[0].Id, paraphrase.Record.Id);

        // And the stored vector is the generator's own embedding of the text.
        var own = (await miniLm.Generator.GenerateAsync([texts[1]], cancellationToken: Token))[0].Vector;
        var byOwnVector = await notes.SearchAsync(own, 1, cancellationToken: Token).SingleAsync(Token);
        Assert.Equal((written[1].Id, 1.0), (byOwnVector.Record.Id, Math.Round(byOwnVector.Score!.Value, 4)));

        Assert.Equal(written[2].Id, (await notes.GetAsync(written[2].Id, cancellationToken: Token))!.Id);
        await Assert.ThrowsAsync<NotSupportedException>(async () => await notes.GetAsync(written[0].Id, new RecordRetrievalOptions { IncludeVectors = true }, Token));
        var security = await notes.SearchAsync("credentials", 3, new VectorSearchOptions<Note> { Filter = n => n.Topic == "security" }, Token).ToListAsync(Token);
        Assert.Equal(written[2].Id, Assert.Single(security).Record.Id);
    }

    [Fact]
    public async Task AnotherRecordSchemaAndAMissingCollectionAreRefusedInOneLine()
    {
        using var store = this.Store();
        using var vectors = new T5Gemma2VectorStore(store);
        await FilledAsync(store);

        var other = vectors.GetCollection<string, HotelWithFractionalRating>("hotels");
        var mismatch = await Assert.ThrowsAsync<VectorStoreException>(async () => await other.GetAsync("h1", cancellationToken: Token));
        Assert.Contains("'Rating'", mismatch.Message, StringComparison.Ordinal);
        Assert.Contains("Integer", mismatch.Message, StringComparison.Ordinal);
        Assert.Contains("Number", mismatch.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', mismatch.Message);
        Assert.Equal("hotels", mismatch.CollectionName);
        await Assert.ThrowsAsync<VectorStoreException>(() => other.EnsureCollectionExistsAsync(Token));

        var missing = vectors.GetCollection<string, Hotel>("nowhere");
        var absent = await Assert.ThrowsAsync<VectorStoreException>(() => missing.UpsertAsync(Hotels()[0], Token));
        Assert.Contains("'nowhere' does not exist", absent.Message, StringComparison.Ordinal);
        Assert.Equal("Upsert", absent.OperationName);
        Assert.False(await missing.CollectionExistsAsync(Token));

        // A collection of indexed documents is not read as records.
        await store.OpenOrCreateCollectionAsync("docs", new CollectionSettings(T5Gemma2.Rag.Tests.VectorData.Hotel.Dimensions, "some-model"), Token);

        var documents = await Assert.ThrowsAsync<VectorStoreException>(async () => await vectors.GetCollection<string, Hotel>("docs").GetAsync("x", cancellationToken: Token));
        Assert.Contains("indexed by t5rag", documents.Message, StringComparison.Ordinal);

        // Record types the stores cannot hold are refused when the collection is made, naming the property.
        var twoVectors = Assert.Throws<NotSupportedException>(() => vectors.GetCollection<string, Dictionary<string, object?>>("d"));
        Assert.NotNull(twoVectors.Message);
        var euclidean = new VectorStoreCollectionDefinition
        {
            Properties = [new VectorStoreKeyProperty("Id", typeof(string)), new VectorStoreVectorProperty("V", typeof(ReadOnlyMemory<float>), 4) { DistanceFunction = DistanceFunction.EuclideanDistance }],
        };
        var distance = Assert.Throws<NotSupportedException>(() => vectors.GetDynamicCollection("e", euclidean));
        Assert.Contains("'V'", distance.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADynamicCollectionReadsTheRecordsATypedOneWrote()
    {
        using var store = this.Store();
        using var vectors = new T5Gemma2VectorStore(store);
        await FilledAsync(store);
        var definition = new VectorStoreCollectionDefinition
        {
            Properties =
            [
                new VectorStoreKeyProperty("HotelId", typeof(string)),
                new VectorStoreDataProperty("Name", typeof(string)) { IsIndexed = true },
                new VectorStoreDataProperty("Description", typeof(string)) { IsFullTextIndexed = true },
                new VectorStoreDataProperty("Rating", typeof(int)) { IsIndexed = true },
                new VectorStoreDataProperty("Price", typeof(double?)) { IsIndexed = true },
                new VectorStoreDataProperty("Open", typeof(bool)) { IsIndexed = true },
                new VectorStoreDataProperty("Opened", typeof(DateTimeOffset)) { IsIndexed = true, StorageName = "opened_at" },
                new VectorStoreDataProperty("Tags", typeof(List<string>)) { IsIndexed = true },
                new VectorStoreVectorProperty("Embedding", typeof(ReadOnlyMemory<float>), T5Gemma2.Rag.Tests.VectorData.Hotel.Dimensions),
            ],
        };
        var dynamic = vectors.GetDynamicCollection("hotels", definition);
        var h4 = await dynamic.GetAsync("h4", cancellationToken: Token);
        Assert.NotNull(h4);
        Assert.Equal(("Summit Lodge", 4, true), ((string?)h4["Name"], (int?)h4["Rating"], (bool?)h4["Open"]));
        Assert.Equal(["mountain", "quiet", "ski"], Assert.IsType<List<string>>(h4["Tags"]));
        Assert.Equal(s_epoch.AddDays(10), (DateTimeOffset?)h4["Opened"]);

        var ratedThree = await dynamic.GetAsync(r => (int)r["Rating"]! == 3, 10, cancellationToken: Token).Select(r => (string)r["HotelId"]!).ToListAsync(Token);
        Assert.Equal(["h2", "h5"], ratedThree.Order(StringComparer.Ordinal));
        var closed = await dynamic.GetAsync(r => !(bool)r["Open"]!, 10, cancellationToken: Token).Select(r => (string)r["HotelId"]!).ToListAsync(Token);
        Assert.Equal(Hotels().Where(h => !h.Open).Select(h => h.HotelId), closed.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ACollectionDeletedElsewhereIsMadeAgainOrReportedNotAsARawStoreError()
    {
        using var store = this.Store();
        using var vectors = new T5Gemma2VectorStore(store);
        var mine = await FilledAsync(store);
        Assert.NotNull(await mine.GetAsync("h1", cancellationToken: Token));

        await vectors.EnsureCollectionDeletedAsync("hotels", Token);
        var gone = await Assert.ThrowsAsync<VectorStoreException>(() => mine.UpsertAsync(Hotels()[1], Token));
        Assert.Equal("hotels", gone.CollectionName);

        await mine.EnsureCollectionExistsAsync(Token);
        await mine.UpsertAsync(Hotels()[1], Token);
        Assert.Equal("h2", (await mine.GetAsync("h2", cancellationToken: Token))!.HotelId);
        Assert.Null(await mine.GetAsync("h1", cancellationToken: Token));
    }

    /// <summary>A store with the hotels collection filled.</summary>
    private static async Task<VectorStoreCollection<string, Hotel>> FilledAsync(IPassageStore store)
    {
        var hotels = new T5Gemma2VectorStoreCollection<string, Hotel>(store, "hotels");
        await hotels.EnsureCollectionExistsAsync(Token);
        await hotels.UpsertAsync(Hotels(), Token);
        return hotels;
    }

    private IPassageStore Store()
    {
        var store = this.CreateStore(out string? reason);
        if (store is null)
        {
            Assert.Skip(reason!);
        }

        return store;
    }

    private static Hotel NewHotel(string id, string? name, string description, int rating, double? price, bool open, DateTimeOffset opened, List<string> tags, params float[] vector) =>
        new() { HotelId = id, Name = name, Description = description, Rating = rating, Price = price, Open = open, Opened = opened, Tags = tags, Embedding = vector };

    private static void AssertSame(Hotel expected, Hotel? actual, bool withVector)
    {
        Assert.NotNull(actual);
        Assert.Equal((expected.HotelId, expected.Name, expected.Description, expected.Rating, expected.Price, expected.Open), (actual.HotelId, actual.Name, actual.Description, actual.Rating, actual.Price, actual.Open));
        Assert.Equal(expected.Opened, actual.Opened); // the same instant, to the tick
        Assert.Equal(expected.Tags, actual.Tags);
        if (withVector)
        {
            Assert.Equal(Normalized(expected.Embedding.Span), actual.Embedding.ToArray(), new FloatTolerance(1e-5f));
        }
    }

    private static float[] Normalized(ReadOnlySpan<float> vector)
    {
        float norm = MathF.Sqrt(System.Numerics.Tensors.TensorPrimitives.Dot(vector, vector));
        return [.. vector.ToArray().Select(x => x / norm)];
    }

    private static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(a, b);

    private sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(float obj) => 0;
    }

    private sealed class DoubleTolerance(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(double obj) => 0;
    }
}
