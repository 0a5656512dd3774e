using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Indexer.Chunking;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Chunking;

/// <summary>Options are valid as soon as they exist, and the model's limit decides the defaults.</summary>
public sealed class ChunkingOptionsTests
{
    [Theory]
    [InlineData(256, 254, 31)]    // all-MiniLM-L6-v2: its own limit decides
    [InlineData(512, 510, 63)]
    [InlineData(514, 512, 64)]
    [InlineData(8_192, 512, 64)]  // long-context models are capped at 512
    [InlineData(6, 4, 0)]
    public void ForModelKeepsRoomForSpecialTokensAndCapsAt512(int modelLimit, int maxTokens, int overlapTokens)
    {
        var options = ChunkingOptions.ForModel(modelLimit);

        Assert.Equal(maxTokens, options.MaxTokens);
        Assert.Equal(overlapTokens, options.OverlapTokens);
    }

    [Fact]
    public void ForModelFitsTheRealMiniLmLimit()
    {
        var model = ModelDirectory.Open(TestAssets.MiniLmDirectory);

        var options = ChunkingOptions.ForModel(model.MaxLength);

        Assert.Equal(254, options.MaxTokens);
        Assert.True(options.MaxTokens + 2 <= model.MaxLength);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(0)]
    [InlineData(-1)]
    public void ForModelRejectsLimitsWithNoRoom(int modelLimit)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ChunkingOptions.ForModel(modelLimit));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(3)]
    public void MaxTokensBelowFourIsRejected(int maxTokens)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new ChunkingOptions { MaxTokens = maxTokens });

        Assert.Equal("MaxTokens", error.ParamName);
    }

    [Fact]
    public void NegativeOverlapIsRejected()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new ChunkingOptions { MaxTokens = 100, OverlapTokens = -1 });

        Assert.Equal("OverlapTokens", error.ParamName);
    }

    [Fact]
    public void OverlapOfHalfOrMoreIsRejectedWhicheverIsSetFirst()
    {
        var overlapLast = Assert.Throws<ArgumentOutOfRangeException>(() => new ChunkingOptions { MaxTokens = 100, OverlapTokens = 50 });
        var maxLast = Assert.Throws<ArgumentOutOfRangeException>(() => new ChunkingOptions { OverlapTokens = 50, MaxTokens = 100 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new ChunkingOptions { MaxTokens = 101, OverlapTokens = 51 });

        Assert.Equal("OverlapTokens", overlapLast.ParamName);
        Assert.Equal("MaxTokens", maxLast.ParamName);
        Assert.Contains("half", overlapLast.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OverlapJustUnderHalfIsAccepted()
    {
        var options = new ChunkingOptions { OverlapTokens = 49, MaxTokens = 100 };
        var odd = new ChunkingOptions { MaxTokens = 101, OverlapTokens = 50 };

        Assert.Equal(49, options.OverlapTokens);
        Assert.Equal(50, odd.OverlapTokens);
        Assert.Equal(0, new ChunkingOptions { MaxTokens = 4 }.OverlapTokens);
    }
}
