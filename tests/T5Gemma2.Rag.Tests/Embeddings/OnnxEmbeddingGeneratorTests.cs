using System.Numerics.Tensors;
using Microsoft.Extensions.AI;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Embeddings;

/// <summary>Batching, pooling, prefixes, truncation, concurrency and bad input, on a real ONNX Runtime session of MiniLM.</summary>
public sealed class OnnxEmbeddingGeneratorTests(SharedMiniLm shared)
{
    private static readonly string[] s_mixedLengths =
    [
        "short",
        "A somewhat longer sentence about retrieval augmented generation with citations.",
        string.Join(' ', Enumerable.Repeat("tokens and more tokens", 30)),
        "mid length text that is neither short nor long at all",
        "x",
        string.Join(' ', Enumerable.Repeat("padding must not leak into the mean", 12)),
    ];

    private readonly OnnxEmbeddingGenerator _sut = shared.Generator;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task BatchedEmbeddingsEqualOneInputPerRun()
    {
        using var onePerRun = OnnxEmbeddingGenerator.Create(TestAssets.MiniLmDirectory, new OnnxEmbeddingGeneratorOptions { MaxBatchSize = 1 });

        var batched = await this._sut.GenerateAsync(s_mixedLengths, cancellationToken: Token);
        var single = await onePerRun.GenerateAsync(s_mixedLengths, cancellationToken: Token);

        // Same order as the input, and padding changes nothing beyond float noise.
        for (int i = 0; i < s_mixedLengths.Length; i++)
        {
            float maxDifference = TensorPrimitives.Max(Difference(batched[i].Vector.Span, single[i].Vector.Span));
            Assert.True(maxDifference < 1e-4f, $"input {i}: batched and single differ by {maxDifference}");
        }
    }

    [Fact]
    public async Task UnsortedFixedBatchesGiveTheSameVectors()
    {
        using var fixedBatches = OnnxEmbeddingGenerator.Create(TestAssets.MiniLmDirectory, new OnnxEmbeddingGeneratorOptions { MaxBatchSize = 2, SortByLength = false, MaxBatchTokens = int.MaxValue });

        var expected = await this._sut.GenerateAsync(s_mixedLengths, cancellationToken: Token);
        var actual = await fixedBatches.GenerateAsync(s_mixedLengths, cancellationToken: Token);

        for (int i = 0; i < s_mixedLengths.Length; i++)
        {
            Assert.True(TensorPrimitives.CosineSimilarity(expected[i].Vector.Span, actual[i].Vector.Span) > 0.99999f);
        }
    }

    [Fact]
    public async Task UsageCountsTokensAndTruncationIsReported()
    {
        string longText = string.Join(' ', Enumerable.Repeat("word", 1000));

        var result = await this._sut.GenerateAsync(["A man is eating food.", longText], cancellationToken: Token);

        Assert.Equal(1, result.AdditionalProperties![OnnxEmbeddingGenerator.TruncatedInputsKey]);
        Assert.Equal(8 + 256, result.Usage!.InputTokenCount);
        Assert.Equal(1.0, TensorPrimitives.Norm(result[1].Vector.Span), 1e-5);
    }

    [Fact]
    public async Task QueryPrefixFromTheModelDirectoryIsApplied()
    {
        using var temp = new TempDirectory();
        string directory = ModelDirectoryCopy.OfMiniLm(temp);
        File.WriteAllText(Path.Combine(directory, "config_sentence_transformers.json"), """{"prompts": {"query": "query: ", "passage": "passage: "}}""");
        using var sut = OnnxEmbeddingGenerator.Create(directory);

        var asQuery = await sut.GenerateAsync(["what is rag"], new EmbeddingGenerationOptions().WithInputKind(EmbeddingInputKind.Query), Token);
        var asPassage = await sut.GenerateAsync(["what is rag"], cancellationToken: Token);
        var explicitPrefixes = await this._sut.GenerateAsync(["query: what is rag", "passage: what is rag"], cancellationToken: Token);

        Assert.Equal("query: ", sut.Model.QueryPrefix);
        Assert.Equal(1f, TensorPrimitives.CosineSimilarity(asQuery[0].Vector.Span, explicitPrefixes[0].Vector.Span), 1e-5f);
        Assert.Equal(1f, TensorPrimitives.CosineSimilarity(asPassage[0].Vector.Span, explicitPrefixes[1].Vector.Span), 1e-5f);
    }

    [Fact]
    public async Task PoolingChoicesDifferAndClsIsTheFirstTokenState()
    {
        using var cls = OnnxEmbeddingGenerator.Create(TestAssets.MiniLmDirectory, new OnnxEmbeddingGeneratorOptions { Pooling = PoolingMode.Cls, Normalize = false });
        using var last = OnnxEmbeddingGenerator.Create(TestAssets.MiniLmDirectory, new OnnxEmbeddingGeneratorOptions { Pooling = PoolingMode.LastToken, Normalize = false });
        using var mean = OnnxEmbeddingGenerator.Create(TestAssets.MiniLmDirectory, new OnnxEmbeddingGeneratorOptions { Normalize = false });
        string[] texts = ["A man is eating food.", "short", "a much longer input so that padding follows the short one"];

        var c = await cls.GenerateAsync(texts, cancellationToken: Token);
        var l = await last.GenerateAsync(texts, cancellationToken: Token);
        var m = await mean.GenerateAsync(texts, cancellationToken: Token);
        var cAlone = await cls.GenerateAsync([texts[1]], cancellationToken: Token);
        var lAlone = await last.GenerateAsync([texts[1]], cancellationToken: Token);

        Assert.True(TensorPrimitives.CosineSimilarity(c[0].Vector.Span, m[0].Vector.Span) < 0.999f);
        Assert.True(TensorPrimitives.CosineSimilarity(l[0].Vector.Span, m[0].Vector.Span) < 0.999f);
        Assert.NotEqual(1f, TensorPrimitives.Norm(m[0].Vector.Span), 1e-3f);
        // In a padded batch, CLS and last-token pooling still read the input's own positions.
        Assert.True(TensorPrimitives.Max(Difference(c[1].Vector.Span, cAlone[0].Vector.Span)) < 1e-4f);
        Assert.True(TensorPrimitives.Max(Difference(l[1].Vector.Span, lAlone[0].Vector.Span)) < 1e-4f);
    }

    [Fact]
    public async Task RequestedDimensionsKeepTheLeadingComponentsNormalized()
    {
        var full = await this._sut.GenerateAsync(["A man is eating food."], cancellationToken: Token);
        var shortened = await this._sut.GenerateAsync(["A man is eating food."], new EmbeddingGenerationOptions { Dimensions = 128 }, Token);

        Assert.Equal(128, shortened[0].Vector.Length);
        Assert.Equal(1.0, TensorPrimitives.Norm(shortened[0].Vector.Span), 1e-5);
        Assert.True(TensorPrimitives.CosineSimilarity(full[0].Vector.Span[..128], shortened[0].Vector.Span) > 0.99999f);
        await Assert.ThrowsAsync<EmbeddingDimensionsException>(() => this._sut.GenerateAsync(["x"], new EmbeddingGenerationOptions { Dimensions = 385 }, Token));
    }

    [Fact]
    public async Task ConcurrentCallersGetTheSameVectorsAsSequential()
    {
        var expected = await this._sut.GenerateAsync(s_mixedLengths, cancellationToken: Token);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => this._sut.GenerateAsync(s_mixedLengths, cancellationToken: Token), Token)));

        foreach (var result in results)
        {
            for (int i = 0; i < s_mixedLengths.Length; i++)
            {
                Assert.True(TensorPrimitives.Max(Difference(expected[i].Vector.Span, result[i].Vector.Span)) < 1e-5f);
            }
        }
    }

    [Fact]
    public async Task EmptyBatchReturnsNoEmbeddings()
    {
        var result = await this._sut.GenerateAsync(Array.Empty<string>(), cancellationToken: Token);

        Assert.Empty(result);
        Assert.Equal(0, result.Usage!.InputTokenCount);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n\t ")]
    [InlineData("[CLS] [SEP] [PAD] [MASK]")]
    [InlineData("lone \uD800 surrogate \uDC00 halves")]
    public async Task OddInputsGiveFiniteUnitVectors(string text)
    {
        var result = await this._sut.GenerateAsync([text], cancellationToken: Token);

        Assert.True(result[0].Vector.Span.ToArray().All(float.IsFinite));
        Assert.Equal(1.0, TensorPrimitives.Norm(result[0].Vector.Span), 1e-4);
    }

    [Fact]
    public async Task OneMegabyteInputIsTruncatedNotFatal()
    {
        string huge = string.Concat(Enumerable.Repeat("retrieval ", 110_000));

        var result = await this._sut.GenerateAsync([huge], cancellationToken: Token);

        Assert.Equal(1, result.AdditionalProperties![OnnxEmbeddingGenerator.TruncatedInputsKey]);
        Assert.Equal(256, result.Usage!.InputTokenCount);
    }

    [Fact]
    public async Task NullEntryIsRefusedByIndex()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => this._sut.GenerateAsync(["ok", null!], cancellationToken: Token));

        Assert.Contains("values[1]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CancelledTokenStopsBeforeAnyWork()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => this._sut.GenerateAsync(["x"], cancellationToken: cancelled.Token));
    }

    [Fact]
    public async Task CancellationDuringALargeJobStopsIt()
    {
        string[] many = [.. Enumerable.Range(0, 4000).Select(i => $"passage number {i} " + new string('a', i % 300))];
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var started = DateTime.UtcNow;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.Run(() => this._sut.GenerateAsync(many, cancellationToken: cancellation.Token), Token));

        // Embedding all 4,000 would take far longer; stopping within seconds shows the job was interrupted.
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task CancellationInterruptsARunInProgress()
    {
        // One batch only, so the between-batch check cannot be what stops it: RunOptions.Terminate must.
        using var oneBatch = OnnxEmbeddingGenerator.Create(TestAssets.MiniLmDirectory, new OnnxEmbeddingGeneratorOptions { MaxBatchSize = 4096, MaxBatchTokens = int.MaxValue });
        string[] many = [.. Enumerable.Range(0, 1500).Select(i => $"passage {i} " + string.Join(' ', Enumerable.Repeat("long text", 100)))];
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        var task = oneBatch.GenerateAsync(many, cancellationToken: cancellation.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task);
        Assert.True(task.IsCanceled, $"task status {task.Status}");
    }

    [Fact]
    public async Task CancelledCallEndsAsACanceledTask()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        var task = this._sut.GenerateAsync(["x"], cancellationToken: cancelled.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task);
        Assert.True(task.IsCanceled);
    }

    [Fact]
    public async Task UseAfterDisposeSaysSo()
    {
        var sut = OnnxEmbeddingGenerator.Create(TestAssets.MiniLmDirectory);
        sut.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => sut.GenerateAsync(["x"], cancellationToken: Token));
    }

    [Theory]
    [InlineData(0, null, null)]
    [InlineData(8, 0, null)]
    [InlineData(8, null, 0)]
    public void UnusableOptionsAreRefusedAtCreation(int maxBatchSize, int? maxBatchTokens, int? maxLength)
    {
        var options = new OnnxEmbeddingGeneratorOptions { MaxBatchSize = maxBatchSize, MaxBatchTokens = maxBatchTokens, MaxLength = maxLength };

        Assert.Throws<ArgumentOutOfRangeException>(() => OnnxEmbeddingGenerator.Create(TestAssets.MiniLmDirectory, options));
    }

    private static float[] Difference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var result = new float[a.Length];
        TensorPrimitives.Subtract(a, b, result);
        TensorPrimitives.Abs(result, result);
        return result;
    }
}
