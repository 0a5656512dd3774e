using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.SemanticKernel.Data;
using T5Gemma2.Rag.Answering;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Indexer.Pipeline;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Retrieval;
using T5Gemma2.Rag.SemanticKernel;

namespace T5Gemma2.Rag.DependencyInjection;

#pragma warning disable SKEXP0001 // ITextSearch<TRecord> is experimental in Semantic Kernel 1.82.
#pragma warning disable CS0618 // ITextSearch (non-generic) is obsolete in 1.82, yet TextSearchExtensions and TextSearchProvider take only it.

/// <summary>Registers a T5Gemma 2 knowledge base in a service collection.</summary>
public static class T5Gemma2RagServiceCollectionExtensions
{
    /// <summary>
    /// Registers, as singletons built on first use: the <see cref="KnowledgeBaseOptions"/>; the
    /// <see cref="OnnxEmbeddingGenerator"/> (also as <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> of string and of
    /// DataContent, for images); the
    /// <see cref="IPassageStore"/> its location names (a directory or a Qdrant URL); the <see cref="IPassageCollection"/>,
    /// opened or created on first use and refused with a <see cref="ModelMismatchException"/> when it was indexed with another
    /// model; <see cref="PassageRetriever"/>, <see cref="IngestPipeline"/>, <see cref="KnowledgeBasePlugin"/>,
    /// <see cref="T5Gemma2TextSearch"/> (also as ITextSearch and ITextSearch&lt;SearchResultItem&gt;); and, when
    /// <see cref="KnowledgeBaseOptions.GeneratorModelDirectory"/> is set, the <see cref="Seq2SeqGenerator"/> and
    /// <see cref="RagAnswerer"/>.
    /// </summary>
    /// <remarks>
    /// Every registration is a TryAdd, so a service registered before (your own store, a <see cref="RagAnswerer"/> over
    /// any IChatClient) is used instead; an <see cref="OnnxEmbeddingGenerator"/> registered as an instance is used and
    /// left for its owner to dispose. Resolving the answerer throws
    /// <see cref="Encoder.ModelFileException"/> when the generator directory is not an encoder-decoder T5Gemma 2
    /// conversion (an encoder-only one, or a BERT model), naming the file and what was expected.
    /// </remarks>
    /// <exception cref="ArgumentException">An option cannot work (no embedding model, an invalid plugin name…).</exception>
    public static IServiceCollection AddT5Gemma2Rag(this IServiceCollection services, Action<KnowledgeBaseOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new KnowledgeBaseOptions();
        configure(options);
        options.Validate();
        string collectionName = options.ResolveCollectionName();

        services.TryAddSingleton(options);
        if (services.LastOrDefault(d => d.ServiceType == typeof(OnnxEmbeddingGenerator) && !d.IsKeyedService)?.ImplementationInstance is OnnxEmbeddingGenerator given)
        {
            // A generator the caller owns: registered as an instance, so the container will not dispose it.
            services.TryAddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(given);
            services.TryAddSingleton<IEmbeddingGenerator<DataContent, Embedding<float>>>(given);
        }
        else if (options.GeneratorModelDirectory is { } answering && ModelDirectory.IsSameDirectory(answering, options.EmbeddingModelDirectory!))
        {
            // One model embeds and answers: the embedding generator runs the generator's own encoder session.
            services.TryAddSingleton(sp => sp.GetRequiredService<Seq2SeqGenerator>().CreateEmbeddingGenerator(new OnnxEmbeddingGeneratorOptions { Session = options.Session, Dimensions = options.Dimensions }, sp.GetService<ILoggerFactory>()));
            services.TryAddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(sp => sp.GetRequiredService<OnnxEmbeddingGenerator>());
            services.TryAddSingleton<IEmbeddingGenerator<DataContent, Embedding<float>>>(sp => sp.GetRequiredService<OnnxEmbeddingGenerator>());
        }
        else
        {
            services.TryAddSingleton(sp => OnnxEmbeddingGenerator.Create(options.EmbeddingModelDirectory!, new OnnxEmbeddingGeneratorOptions { Session = options.Session, Dimensions = options.Dimensions }, sp.GetService<ILoggerFactory>()));
            services.TryAddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(sp => sp.GetRequiredService<OnnxEmbeddingGenerator>());
            services.TryAddSingleton<IEmbeddingGenerator<DataContent, Embedding<float>>>(sp => sp.GetRequiredService<OnnxEmbeddingGenerator>());
        }

        services.TryAddSingleton(sp => PassageStores.Open(options.Store, sp.GetService<ILoggerFactory>()));
        services.TryAddSingleton<IPassageCollection>(sp =>
        {
            var embedder = sp.GetRequiredService<OnnxEmbeddingGenerator>();
            return new LazyPassageCollection(sp.GetRequiredService<IPassageStore>(), collectionName, embedder.CollectionSettings());
        });
        // With an answering model the retriever can rerank too, so RetrievalOptions.Rerank works in the plugin as in t5rag ask.
        services.TryAddSingleton(sp => new PassageRetriever(
            sp.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>(),
            sp.GetRequiredService<IPassageCollection>(),
            options.GeneratorModelDirectory is null ? null : new DecoderReranker(sp.GetRequiredService<Seq2SeqGenerator>())));
        services.TryAddSingleton(sp => IngestPipeline.Create(sp.GetRequiredService<OnnxEmbeddingGenerator>(), sp.GetRequiredService<IPassageCollection>(), options.Ingest, sp.GetService<ILoggerFactory>()));
        if (options.GeneratorModelDirectory is { } generator)
        {
            services.TryAddSingleton(_ => Seq2SeqGenerator.Create(generator, options.Session));
            services.TryAddSingleton(sp => RagAnswerer.Create(sp.GetRequiredService<PassageRetriever>(), sp.GetRequiredService<Seq2SeqGenerator>(), sp.GetService<ILoggerFactory>()));
        }

        services.TryAddSingleton(sp => new KnowledgeBasePlugin(sp.GetRequiredService<PassageRetriever>(), sp.GetRequiredService<IngestPipeline>(), sp.GetService<RagAnswerer>(), options));
        services.TryAddSingleton(sp => new T5Gemma2TextSearch(sp.GetRequiredService<PassageRetriever>(), options.Retrieval));
        services.TryAddSingleton<ITextSearch<SearchResultItem>>(sp => sp.GetRequiredService<T5Gemma2TextSearch>());
        services.TryAddSingleton<ITextSearch>(sp => sp.GetRequiredService<T5Gemma2TextSearch>());
        return services;
    }
}
