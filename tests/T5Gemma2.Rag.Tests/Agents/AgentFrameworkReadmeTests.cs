using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Agents;

/// <summary>The README's Agent Framework sample compiles against the assemblies the tests run on.</summary>
public sealed class AgentFrameworkReadmeTests
{
    [Fact]
    public void TheReadmeSampleCompiles()
    {
        var snippet = ReadmeSnippet.Of("Microsoft Agent Framework");

        Assert.Contains("KnowledgeContextProvider", snippet.Code, StringComparison.Ordinal);
        Assert.Empty(snippet.CompileErrors().Select(d => d.ToString()));
    }
}
