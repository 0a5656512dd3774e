using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.VectorData;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Indexer.VectorData;

namespace T5Gemma2.Rag.DependencyInjection;

/// <summary>Registers the T5Gemma2 VectorData connector in a service collection, as MEVD's own connectors do (<c>AddQdrantVectorStore</c>, <c>AddQdrantCollection</c>).</summary>
public static class T5Gemma2VectorStoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="T5Gemma2VectorStore"/> as the <see cref="VectorStore"/>: over the store at
    /// <paramref name="location"/> (a directory for the embedded store, or <c>qdrant://host:6334</c>), or, when null,
    /// over the <see cref="IPassageStore"/> already registered (the one <c>AddT5Gemma2Rag</c> registers, so records and
    /// indexed documents share a store). Without an embedding generator in the options, the registered
    /// <c>IEmbeddingGenerator&lt;string, Embedding&lt;float&gt;&gt;</c> (ours, or any) embeds string vector properties.
    /// </summary>
    public static IServiceCollection AddT5Gemma2VectorStore(this IServiceCollection services, string? location = null, Action<T5Gemma2VectorStoreOptions>? configure = null, ServiceLifetime lifetime = ServiceLifetime.Singleton)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.Add(new ServiceDescriptor(typeof(T5Gemma2VectorStore), sp =>
        {
            var options = new T5Gemma2VectorStoreOptions();
            configure?.Invoke(options);
            options.EmbeddingGenerator ??= sp.GetService<IEmbeddingGenerator<string, Embedding<float>>>() ?? sp.GetService<IEmbeddingGenerator>();
            return location is null
                ? new T5Gemma2VectorStore(sp.GetRequiredService<IPassageStore>(), ownsStore: false, options)
                : new T5Gemma2VectorStore(PassageStores.Open(location, sp.GetService<ILoggerFactory>()), ownsStore: true, options);
        }, lifetime));
        services.Add(new ServiceDescriptor(typeof(VectorStore), sp => sp.GetRequiredService<T5Gemma2VectorStore>(), lifetime));
        return services;
    }

    /// <summary>
    /// Registers the collection <paramref name="name"/> of <typeparamref name="TRecord"/> records from the registered
    /// <see cref="VectorStore"/> (<see cref="AddT5Gemma2VectorStore"/>) as <see cref="VectorStoreCollection{TKey, TRecord}"/>,
    /// <see cref="IVectorSearchable{TRecord}"/> and <see cref="IKeywordHybridSearchable{TRecord}"/>.
    /// </summary>
    public static IServiceCollection AddT5Gemma2VectorStoreCollection<TKey, TRecord>(this IServiceCollection services, string name, VectorStoreCollectionDefinition? definition = null, ServiceLifetime lifetime = ServiceLifetime.Singleton)
        where TKey : notnull
        where TRecord : class
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        services.Add(new ServiceDescriptor(typeof(VectorStoreCollection<TKey, TRecord>), sp => sp.GetRequiredService<VectorStore>().GetCollection<TKey, TRecord>(name, definition), lifetime));
        services.Add(new ServiceDescriptor(typeof(IVectorSearchable<TRecord>), sp => sp.GetRequiredService<VectorStoreCollection<TKey, TRecord>>(), lifetime));
        services.Add(new ServiceDescriptor(typeof(IKeywordHybridSearchable<TRecord>), sp => (IKeywordHybridSearchable<TRecord>)sp.GetRequiredService<VectorStoreCollection<TKey, TRecord>>(), lifetime));
        return services;
    }
}
