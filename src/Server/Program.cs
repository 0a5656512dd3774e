using T5Gemma2.Rag.Server.Hosting;

namespace T5Gemma2.Rag.Server;

/// <summary>
/// The server on its own (<c>dotnet T5Gemma2.Rag.Server.dll --T5Rag:EmbeddingModelDirectory=…</c>) and the entry point
/// WebApplicationFactory hosts in tests; <c>t5rag serve</c> builds the same application from its flags.
/// </summary>
public sealed class Program
{
    private Program()
    {
    }

    public static async Task<int> Main(string[] args)
    {
        var app = KnowledgeBaseServer.CreateBuilder(args).Build().UseKnowledgeBaseServer();
        try
        {
            await KnowledgeBaseServer.RunAsync(app).ConfigureAwait(false);
            return 0;
        }
        catch (T5RagException ex)
        {
            await Console.Error.WriteLineAsync($"t5rag serve: {ex.Message}").ConfigureAwait(false);
            return 2;
        }
    }
}
