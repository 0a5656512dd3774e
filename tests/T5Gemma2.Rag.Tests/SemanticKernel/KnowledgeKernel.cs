using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using T5Gemma2.Rag.DependencyInjection;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.SemanticKernel;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.SemanticKernel;

/// <summary>
/// A real kernel built with AddT5Gemma2Rag over an embedded store, given the test assembly's MiniLM session (an
/// instance registration, which the container uses and leaves to its owner); disposing it disposes the kernel's services.
/// </summary>
internal sealed class KnowledgeKernel : IAsyncDisposable
{
    private KnowledgeKernel(Kernel kernel)
    {
        this.Kernel = kernel;
    }

    public Kernel Kernel { get; }

    /// <param name="embedder">The session to share; null lets the container load the model from the options.</param>
    public static KnowledgeKernel Create(OnnxEmbeddingGenerator? embedder, string store, Action<KnowledgeBaseOptions>? configure = null)
    {
        var builder = Kernel.CreateBuilder();
        if (embedder is not null)
        {
            builder.Services.AddSingleton(embedder);
        }

        builder.AddT5Gemma2Rag(options =>
        {
            options.EmbeddingModelDirectory = TestAssets.MiniLmDirectory;
            options.Store = store;
            options.CollectionName = "kb";
            configure?.Invoke(options);
        });
        return new KnowledgeKernel(builder.Build());
    }

    public async Task<T> InvokeAsync<T>(string function, KernelArguments arguments) =>
        (await this.Kernel.InvokeAsync<T>("knowledge", function, arguments, TestContext.Current.CancellationToken))!;

    public async ValueTask DisposeAsync()
    {
        if (this.Kernel.Services is IAsyncDisposable services)
        {
            await services.DisposeAsync();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }
}
