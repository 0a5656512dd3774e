using System.Xml.Linq;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Architecture;

/// <summary>The projects' dependencies point one way, Encoder ← Indexer ← Rag ← Server ← Cli, each on the one before it only.</summary>
public sealed class ProjectDependencyTests
{
    [Theory]
    [InlineData("Encoder", null)]
    [InlineData("Indexer", "Encoder")]
    [InlineData("Rag", "Indexer")]
    [InlineData("Server", "Rag")]
    [InlineData("Cli", "Server")]
    public void EachProjectReferencesOnlyTheOneBeforeIt(string project, string? before)
    {
        string folder = Path.Combine(TestAssets.RepositoryRoot, "src", project);
        string csproj = Directory.GetFiles(folder, "*.csproj").Single();
        var references = XDocument.Load(csproj).Descendants("ProjectReference")
            .Select(r => Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(Path.Combine(folder, r.Attribute("Include")!.Value.Replace('\\', '/'))))!))
            .ToList();
        Assert.Equal(before is null ? [] : [before], references);
    }
}
