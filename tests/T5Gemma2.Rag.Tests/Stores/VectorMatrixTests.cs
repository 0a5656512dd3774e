using T5Gemma2.Rag.Indexer.Stores.Embedded;

namespace T5Gemma2.Rag.Tests.Stores;

/// <summary>The vector matrix in chunks: addressing past 2^31 floats, and rows that straddle nothing at chunk boundaries.</summary>
public sealed class VectorMatrixTests
{
    [Theory]
    [InlineData(640, 10_000_000)]
    [InlineData(2_560, 10_000_000)]
    [InlineData(1_024, 3_000_000)]
    public void TenMillionRowsAreAddressableInIntChunksAndOffsets(int dimensions, int rows)
    {
        // Addressing only: a matrix of 16 rows, asked where rows far past 2^31 floats would lie.
        var matrix = new VectorMatrix(dimensions, capacity: 16);
        Assert.True((long)rows * dimensions > int.MaxValue);
        int rowsPerChunk = VectorMatrix.DefaultChunkFloats / dimensions;
        Assert.Equal(rowsPerChunk, matrix.RowsPerChunk);
        foreach (int row in new[] { 0, 1, rowsPerChunk - 1, rowsPerChunk, rowsPerChunk + 1, int.MaxValue / dimensions, (int.MaxValue / dimensions) + 1, rows / 2, rows - 1 })
        {
            var (chunk, offset) = matrix.Locate(row);
            Assert.InRange(offset, 0, (rowsPerChunk * dimensions) - dimensions);
            Assert.Equal(0, offset % dimensions);
            Assert.Equal((long)row * dimensions, ((long)chunk * rowsPerChunk * dimensions) + offset);
        }

        Assert.True(matrix.Locate(rows - 1).Chunk < 400, "a few hundred chunks at most");
    }

    [Fact]
    public void RowsInSmallChunksAreStoredRemovedAndScannedExactly()
    {
        const int Dimensions = 5;
        var random = new Random(11);
        var matrix = new VectorMatrix(Dimensions, capacity: 16, chunkFloats: 3 * Dimensions + 2);
        Assert.Equal(3, matrix.RowsPerChunk);
        var expected = new Dictionary<long, float[]>();
        for (long rowId = 100; rowId < 400; rowId++)
        {
            float[] vector = [.. Enumerable.Range(0, Dimensions).Select(_ => (float)(random.NextDouble() - 0.5))];
            matrix.Add(rowId, vector);
            expected[rowId] = vector;
        }

        foreach (long rowId in expected.Keys.Where(id => id % 7 == 0).ToList())
        {
            matrix.Remove(rowId);
            expected.Remove(rowId);
        }

        matrix.Add(150, [1, 2, 3, 4, 5]);
        expected[150] = [1, 2, 3, 4, 5];
        Assert.Equal(expected.Count, matrix.Count);
        foreach (var (rowId, vector) in expected)
        {
            Assert.Equal(vector, matrix.Vector(rowId).ToArray());
        }

        // The reference: every dot product in double precision, computed here.
        for (int q = 0; q < 20; q++)
        {
            float[] query = [.. Enumerable.Range(0, Dimensions).Select(_ => (float)(random.NextDouble() - 0.5))];
            var reference = expected.Select(e => (e.Key, Score: e.Value.Select((v, i) => (double)v * query[i]).Sum())).OrderByDescending(e => e.Score).Take(10).Select(e => e.Key).ToList();
            Assert.Equal(reference, matrix.Nearest(query, 10, null).Select(r => r.RowId).ToList());
            var allowed = expected.Keys.Where(id => id % 3 == 0).ToHashSet();
            var filtered = expected.Where(e => allowed.Contains(e.Key)).Select(e => (e.Key, Score: e.Value.Select((v, i) => (double)v * query[i]).Sum())).OrderByDescending(e => e.Score).Take(4).Select(e => e.Key).ToList();
            Assert.Equal(filtered, matrix.Nearest(query, 4, allowed).Select(r => r.RowId).ToList());
        }

        // A reload that keeps some rows, changes one and drops the rest.
        var kept = expected.Where(e => e.Key % 2 == 0).ToDictionary();
        kept[102] = [5, 4, 3, 2, 1];
        var (removed, changed) = matrix.Synchronize(kept.Select(e => (e.Key, e.Value)));
        Assert.Equal(expected.Keys.Where(id => id % 2 != 0).Order(), removed.Order());
        Assert.Contains(102L, changed);
        Assert.Equal(kept.Count, matrix.Count);
        Assert.Equal([5f, 4, 3, 2, 1], matrix.Vector(102).ToArray());
    }
}
