using Microsoft.ML.OnnxRuntime;
using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Onnx;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Generation;

/// <summary>
/// The merged caches on the tiny conversion's real cross-cache graph: the cross part at the head, zeroed self slots,
/// new keys and (transposed) values stored where the step graph reads them, growth that keeps everything, and beam
/// reordering that moves only the self part.
/// </summary>
public sealed class DecoderCacheTests(SharedTinyT5Gemma2 tiny)
{
    private const int Encoder = 5;

    [Fact]
    public void StoredTokensLandInTheirSlotsAndSurviveGrowthAndReordering()
    {
        var config = T5Gemma2Config.Read(Path.Combine(tiny.ConvertedDirectory, "config.json")).Decoder!;
        int kv = config.NumKeyValueHeads, d = config.HeadDim, layers = config.NumLayers;
        using var session = OnnxSessionFactory.Create(Path.Combine(tiny.ConvertedDirectory, DecoderGraphNames.CrossCacheFile), new OnnxSessionOptions { IntraOpThreads = 1 });
        var random = new Random(3);
        float[] states = [.. Enumerable.Range(0, 2 * Encoder * config.HiddenSize).Select(_ => (float)random.NextDouble() - 0.5f)];
        using var statesValue = OrtValue.CreateTensorValueFromMemory(states, [2, Encoder, config.HiddenSize]);
        using var capacityValue = OrtValue.CreateTensorValueFromMemory(new long[] { 2 }, [1]);
        string[] outputs = [.. Enumerable.Range(0, layers).SelectMany(i => new[] { DecoderGraphNames.CacheKey(i), DecoderGraphNames.CacheValueTransposed(i) })];
        using var runOptions = new RunOptions();
        using var cache = DecoderCache.FromCrossCache(session.Run(runOptions, [DecoderGraphNames.EncoderHiddenStates, DecoderGraphNames.SelfCapacity], [statesValue, capacityValue], outputs), kv, d, capacity: 2);
        float[][] crossKeys = [.. Enumerable.Range(0, layers).Select(l => Key(cache, l, 1, 0, Encoder - 1).ToArray())];
        float[] crossValues = [.. Enumerable.Range(0, layers).Select(l => Value(cache, l, 1, 0, 0, Encoder - 1))];

        Assert.Equal((Encoder, 2, 0), (cache.EncoderLength, cache.Capacity, cache.Length));
        Assert.Contains(Key(cache, 0, 0, 0, 0).ToArray(), v => v != 0f);
        Assert.All(Key(cache, 0, 0, 0, Encoder).ToArray(), v => Assert.Equal(0f, v));

        // Two tokens, then three more: past the two slots, so the buffers grow.
        Store(cache, layers, kv, d, tokens: 2, first: 0);
        cache.EnsureRoom(3);
        Store(cache, layers, kv, d, tokens: 3, first: 2);

        Assert.True(cache.Capacity >= 5, $"capacity {cache.Capacity}");
        Assert.Equal(5, cache.Length);
        for (int layer = 0; layer < layers; layer++)
        {
            Assert.Equal(crossKeys[layer], Key(cache, layer, 1, 0, Encoder - 1).ToArray());
            Assert.Equal(crossValues[layer], Value(cache, layer, 1, 0, 0, Encoder - 1));
            for (int t = 0; t < 5; t++)
            {
                Assert.Equal(Expected(layer, 1, kv - 1, t, 1), Key(cache, layer, 1, kv - 1, Encoder + t)[1]);
                Assert.Equal(-Expected(layer, 1, kv - 1, t, d - 1), Value(cache, layer, 1, kv - 1, d - 1, Encoder + t));
            }
        }

        // Beams: row 0 takes row 1's self part; the cross part stays each row's.
        float row0Cross = Key(cache, 0, 0, 0, 1)[0];
        cache.Reorder([1, 1]);

        Assert.Equal(Expected(0, 1, 0, 3, 2), Key(cache, 0, 0, 0, Encoder + 3)[2]);
        Assert.Equal(-Expected(0, 1, 0, 3, 2), Value(cache, 0, 0, 0, 2, Encoder + 3));
        Assert.Equal(row0Cross, Key(cache, 0, 0, 0, 1)[0]);
    }

    /// <summary>A value that says where it belongs.</summary>
    private static float Expected(int layer, int row, int head, int token, int j) => (layer * 1000) + (row * 100) + (head * 10) + token + (j / 1000f);

    /// <summary>New keys [rows, kv, tokens, d] and transposed values [rows, kv, d, tokens] of positions first…, values negated.</summary>
    private static void Store(DecoderCache cache, int layers, int kv, int d, int tokens, int first)
    {
        var keys = new float[layers][];
        var values = new float[layers][];
        for (int layer = 0; layer < layers; layer++)
        {
            keys[layer] = new float[2 * kv * tokens * d];
            values[layer] = new float[2 * kv * d * tokens];
            for (int row = 0; row < 2; row++)
            {
                for (int head = 0; head < kv; head++)
                {
                    for (int t = 0; t < tokens; t++)
                    {
                        for (int j = 0; j < d; j++)
                        {
                            keys[layer][((((row * kv) + head) * tokens) + t) * d + j] = Expected(layer, row, head, first + t, j);
                            values[layer][((((row * kv) + head) * d) + j) * tokens + t] = -Expected(layer, row, head, first + t, j);
                        }
                    }
                }
            }
        }

        cache.Append(keys, values, tokens);
    }

    private static ReadOnlySpan<float> Key(DecoderCache cache, int layer, int row, int head, int position)
    {
        var shape = cache.Key(layer).GetTensorTypeAndShape().Shape;
        int heads = (int)shape[1], total = (int)shape[2], d = (int)shape[3];
        return cache.Key(layer).GetTensorDataAsSpan<float>().Slice((((row * heads) + head) * total + position) * d, d);
    }

    private static float Value(DecoderCache cache, int layer, int row, int head, int j, int position)
    {
        var shape = cache.ValueTransposed(layer).GetTensorTypeAndShape().Shape;
        int heads = (int)shape[1], d = (int)shape[2], total = (int)shape[3];
        return cache.ValueTransposed(layer).GetTensorDataAsSpan<float>()[((((row * heads) + head) * d) + j) * total + position];
    }
}
