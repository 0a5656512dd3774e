using T5Gemma2.Rag.Server.OpenAi;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>A streamed answer adds up to the finished answer, which is trimmed, however the deltas split its white space.</summary>
public sealed class TrimmedDeltasTests
{
    [Theory]
    [InlineData(" | The| answer| |\n|[1].| \n| ")]
    [InlineData("\n\n|\t")]
    [InlineData("a|b| c | |d")]
    [InlineData("  leading and trailing  ")]
    [InlineData("|x|| |")]
    public void DeltasAddUpToTheTrimmedText(string joined)
    {
        string[] deltas = joined.Split('|');
        var trimmed = new TrimmedDeltas();

        string sent = string.Concat(deltas.Select(trimmed.Next));

        Assert.Equal(string.Concat(deltas).Trim(), sent);
    }

    [Fact]
    public void WhiteSpaceWaitsForWhatFollowsIt()
    {
        var trimmed = new TrimmedDeltas();
        Assert.Equal("The", trimmed.Next(" The "));
        Assert.Equal(string.Empty, trimmed.Next("\n"));
        Assert.Equal(" \nend", trimmed.Next("end"));
    }
}
