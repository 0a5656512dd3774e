using Qdrant.Client.Grpc;
using T5Gemma2.Rag.Indexer.Stores.Qdrant;

namespace T5Gemma2.Rag.Tests.Stores;

/// <summary>Upsert requests are capped by point count and by serialized bytes, whichever comes first.</summary>
public sealed class QdrantBatchesTests
{
    [Fact]
    public void SmallItemsSplitByCount()
    {
        var batches = QdrantBatches.Split([.. Enumerable.Range(0, 600)], maxCount: 256, maxBytes: 1_000_000, _ => 10);
        Assert.Equal([256, 256, 88], batches.Select(b => b.Count));
        Assert.Equal(Enumerable.Range(0, 600), batches.SelectMany(b => b));
    }

    [Fact]
    public void LargeItemsSplitByBytesAndAnOversizedOneGoesAlone()
    {
        long[] sizes = [400, 400, 300, 900, 5_000, 100, 100];
        var batches = QdrantBatches.Split(sizes, maxCount: 256, maxBytes: 1_000, s => s);
        Assert.Equal([[400, 400], [300], [900], [5_000], [100, 100]], batches.Select(b => b.ToArray()));
        Assert.All(batches.Where(b => b.Count > 1), b => Assert.True(b.Sum() <= 1_000));
        Assert.Empty(QdrantBatches.Split(Array.Empty<long>(), 256, 1_000, s => s));
    }

    [Fact]
    public void RealPointsStayUnderTheByteCapOfARequest()
    {
        // 300 passages of ~40 KB each: 256 fit the count, but only ~25 fit 1 MiB.
        string text = new('x', 40_000);
        var points = Enumerable.Range(0, 300).Select(i => new PointStruct
        {
            Id = Guid.NewGuid(),
            Vectors = new float[384],
            Payload = { ["text"] = text, ["n"] = i },
        }).ToList();
        const long cap = 1024 * 1024;
        var batches = QdrantBatches.Split(points, 256, cap, p => p.CalculateSize() + 8);
        Assert.True(batches.Count >= 300 * 41_000 / cap);
        Assert.All(batches, b => Assert.True(b.Sum(p => p.CalculateSize() + 8) <= cap));
        Assert.Equal(300, batches.Sum(b => b.Count));
    }

    [Fact]
    public void TheDefaultsStayWellUnderQdrantsRequestCap()
    {
        var options = QdrantStoreOptions.For(new Uri("http://localhost:6334"));
        Assert.Equal(256, options.BatchMaxPoints);
        Assert.True(options.BatchMaxBytes <= QdrantStoreOptions.MaxRequestBytes);
        Assert.True(QdrantStoreOptions.MaxRequestBytes < 32L * 1000 * 1000);
        Assert.InRange(options.UploadParallelism, 2, 4);
        Assert.Throws<ArgumentOutOfRangeException>(() => (options with { BatchMaxBytes = 40L * 1024 * 1024 }).Validate());
    }
}
