using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Indexer.Stores.Embedded;
using T5Gemma2.Rag.Indexer.Stores.Qdrant;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Stores;

/// <summary>Store locations (qdrant://, qdrants://, http(s)://, the bare word qdrant, directories) and Qdrant options.</summary>
public sealed class QdrantStoreLocationTests
{
    private static readonly Func<string, string?> s_noEnvironment = _ => null;

    [Theory]
    [InlineData("qdrant://localhost:6334", "http://localhost:6334/", null)]
    [InlineData("qdrant://db.example.com", "http://db.example.com:6334/", null)]
    [InlineData("QDRANT://db:7000?collection=kb", "http://db:7000/", "kb")]
    [InlineData("qdrants://cloud.example.com:6334/?collection=docs%20v2", "https://cloud.example.com:6334/", "docs v2")]
    [InlineData("https://cloud.example.com", "https://cloud.example.com:6334/", null)]
    [InlineData("http://127.0.0.1:80", "http://127.0.0.1:80/", null)]
    [InlineData("http://[::1]:6334?collection=a", "http://[::1]:6334/", "a")]
    public void UrlsGiveTheGrpcEndpointAndCollection(string location, string endpoint, string? collection)
    {
        Assert.True(QdrantStoreLocation.IsQdrant(location));
        var parsed = QdrantStoreLocation.Parse(location, s_noEnvironment);
        Assert.Equal(new Uri(endpoint), parsed.Endpoint);
        Assert.Equal(collection, parsed.Collection);
        Assert.Null(parsed.ApiKey);
    }

    [Fact]
    public void TheBareWordIsQdrantUrlOrTheLocalServerAndTheKeyComesFromTheEnvironment()
    {
        var environment = new Dictionary<string, string> { ["QDRANT_URL"] = "qdrants://remote:6400?collection=shared", ["QDRANT_API_KEY"] = "s3cret" };
        var configured = QdrantStoreLocation.Parse("qdrant", environment.GetValueOrDefault);
        Assert.Equal((new Uri("https://remote:6400"), "shared", "s3cret"), (configured.Endpoint, configured.Collection, configured.ApiKey));
        Assert.True(configured.ToOptions().Https);
        Assert.DoesNotContain("s3cret", configured.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", configured.ToOptions().ToString(), StringComparison.Ordinal);

        var local = QdrantStoreLocation.Parse("Qdrant", s_noEnvironment);
        Assert.Equal(QdrantStoreLocation.DefaultEndpoint, local.Endpoint);
        Assert.Equal("qdrant://localhost:6334?collection=kb", QdrantStoreLocation.Format(local.Endpoint, "kb"));
        Assert.Equal("qdrants://remote:6400", QdrantStoreLocation.Format(configured.Endpoint));
    }

    [Theory]
    [InlineData("qdrant://host:6334/kb", "unexpected path")]
    [InlineData("qdrant://host?api_key=abc", "QDRANT_API_KEY")]
    [InlineData("qdrant://user:pw@host", "QDRANT_API_KEY")]
    [InlineData("qdrant://host?colection=kb", "unexpected parameter")]
    [InlineData("qdrant://host?collection=", "unexpected parameter")]
    [InlineData("qdrant://", "expected qdrant://host")]
    public void MalformedUrlsSayWhatWasExpectedAndNeverEchoSecrets(string location, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => QdrantStoreLocation.Parse(location, s_noEnvironment));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("abc", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("pw", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DirectoriesOpenTheEmbeddedStoreAndUrlsTheQdrantOne()
    {
        using var directory = new TempDirectory();
        Assert.False(PassageStores.IsServer(directory.Path));
        Assert.False(PassageStores.IsServer("./qdrant"));
        using (var embedded = PassageStores.Open(directory.Combine("store")))
        {
            Assert.IsType<EmbeddedPassageStore>(embedded);
        }

        Assert.Null(PassageStores.CollectionOf(directory.Path));
        Assert.Equal("kb", PassageStores.CollectionOf("qdrant://localhost:6334?collection=kb"));

        // Connecting sends nothing: a store on a port where no server listens opens fine and fails at its first call.
        using var qdrant = PassageStores.Open("qdrant://127.0.0.1:6334", configureQdrant: o => o with { Shards = 3, Replicas = 2, ApiKey = "k" });
        var store = Assert.IsType<QdrantPassageStore>(qdrant);
        Assert.Equal((3, 2, "k"), (store.Options.Shards, store.Options.Replicas, store.Options.ApiKey));
        Assert.Equal("qdrant://127.0.0.1:6334", store.Location);

        var ex = Assert.Throws<StoreException>(() => PassageStores.Open("qdrant://host/path"));
        Assert.IsType<FormatException>(ex.InnerException);
    }

    [Fact]
    public void OptionsOutOfRangeAreNamed()
    {
        var options = QdrantStoreOptions.For(new Uri("http://localhost:6334"));
        options.Validate();
        (QdrantStoreOptions Options, string Named)[] bad =
        [
            (options with { Shards = 0 }, "Shards"),
            (options with { Replicas = 2, WriteConsistencyFactor = 3 }, "WriteConsistencyFactor"),
            (options with { UploadParallelism = 0 }, "UploadParallelism"),
            (options with { BatchMaxPoints = 0 }, "BatchMaxPoints"),
            (options with { RetryMaxDelay = TimeSpan.FromMilliseconds(1) }, "RetryMaxDelay"),
            (options with { CollectionPrefix = "a/b" }, "CollectionPrefix"),
            (options with { Endpoint = new Uri("ftp://x") }, "Endpoint"),
            (options with { QuantizationOversampling = 0.5 }, "QuantizationOversampling"),
        ];
        foreach (var (candidate, named) in bad)
        {
            var ex = Assert.ThrowsAny<ArgumentException>(candidate.Validate);
            Assert.Equal(named, ex.ParamName);
        }
    }
}
