using T5Gemma2.Rag.Indexer.Loading;

namespace T5Gemma2.Rag.Tests.Loading;

public sealed class GlobPatternTests
{
    [Theory]
    [InlineData("*.md", "README.md", true)]
    [InlineData("*.md", "docs/deep/guide.md", true)] // no '/': the name at any depth
    [InlineData("*.md", "docs/guide.mdx", false)]
    [InlineData("docs/*.md", "docs/guide.md", true)]
    [InlineData("docs/*.md", "docs/deep/guide.md", false)] // '*' stays within a segment
    [InlineData("docs/**/*.md", "docs/guide.md", true)] // '**' may be no segment
    [InlineData("docs/**/*.md", "docs/a/b/c/guide.md", true)]
    [InlineData("docs/**/*.md", "other/docs/guide.md", false)] // with '/': anchored at the root
    [InlineData("**/bin/**", "src/app/bin/Debug/x.dll", true)]
    [InlineData("**/bin/**", "src/app/binary/x.dll", false)]
    [InlineData("file?.txt", "file1.txt", true)]
    [InlineData("file?.txt", "file10.txt", false)]
    [InlineData("a*b*c", "axxbyyc", true)]
    [InlineData("a*b*c", "axxbyy", false)]
    [InlineData("./docs/", "docs", true)]
    [InlineData("/build", "build", true)]
    [InlineData("/build", "src/build", false)] // a leading '/' anchors a name to the root
    [InlineData("node_modules", "web/node_modules", true)]
    [InlineData("résumé *.md", "cv/résumé ü.md", true)]
    [InlineData("*.MD", "readme.md", false)] // ordinal
    public void MatchesRelativePaths(string pattern, string path, bool expected)
    {
        Assert.Equal(expected, new GlobPattern(pattern).IsMatch(path));
    }

    [Fact]
    public void ManyStarsStayFast()
    {
        var pattern = new GlobPattern(string.Concat(Enumerable.Repeat("**/a*a*a*", 20)) + "b");
        string path = string.Join('/', Enumerable.Repeat(new string('a', 200), 60));

        var started = DateTime.UtcNow;
        Assert.False(pattern.IsMatch(path));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("/")]
    public void AnEmptyPatternIsRefused(string pattern)
    {
        Assert.ThrowsAny<ArgumentException>(() => new GlobPattern(pattern));
    }
}
