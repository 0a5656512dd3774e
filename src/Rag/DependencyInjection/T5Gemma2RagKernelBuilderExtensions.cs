using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using T5Gemma2.Rag.SemanticKernel;

namespace T5Gemma2.Rag.DependencyInjection;

/// <summary>Adds a T5Gemma 2 knowledge base, and its plugin, to a kernel.</summary>
public static class T5Gemma2RagKernelBuilderExtensions
{
    /// <summary>
    /// Registers the knowledge base's services (<see cref="T5Gemma2RagServiceCollectionExtensions.AddT5Gemma2Rag"/>)
    /// and adds <see cref="KnowledgeBasePlugin"/> to the kernel's plugins under
    /// <see cref="KnowledgeBaseOptions.PluginName"/>, made by
    /// <c>KernelPluginFactory.CreateFromObject(plugin, pluginName)</c>; building the kernel loads the models.
    /// </summary>
    /// <example>
    /// <code>
    /// var builder = Kernel.CreateBuilder();
    /// builder.AddT5Gemma2Rag(o => { o.EmbeddingModelDirectory = "models/minilm"; o.GeneratorModelDirectory = "models/t5gemma2"; o.Store = ".t5rag"; });
    /// Kernel kernel = builder.Build();
    /// var found = await kernel.InvokeAsync&lt;SearchResults&gt;("knowledge", "search", new() { ["query"] = "how do I reset it?" });
    /// </code>
    /// </example>
    public static IKernelBuilder AddT5Gemma2Rag(this IKernelBuilder builder, Action<KnowledgeBaseOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddT5Gemma2Rag(configure);
        builder.Services.AddSingleton(sp => KernelPluginFactory.CreateFromObject(sp.GetRequiredService<KnowledgeBasePlugin>(), sp.GetRequiredService<KnowledgeBaseOptions>().PluginName));
        return builder;
    }
}
