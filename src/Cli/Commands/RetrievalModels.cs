using Microsoft.Extensions.Logging;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Onnx;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Retrieval;

namespace T5Gemma2.Rag.Cli.Commands;

/// <summary>
/// The models a command retrieves with: the embedding model (none for keyword search) and the T5Gemma 2 generator
/// (to rerank or answer). One directory that does both is loaded once: the embedder runs the generator's encoder.
/// </summary>
internal sealed class RetrievalModels : IDisposable
{
    private RetrievalModels(OnnxEmbeddingGenerator? embedder, Seq2SeqGenerator? generator)
    {
        this.Embedder = embedder;
        this.Generator = generator;
    }

    public OnnxEmbeddingGenerator? Embedder { get; }

    public Seq2SeqGenerator? Generator { get; }

    /// <param name="embeddingModel">The collection's model directory; null when the search needs no query embedding.</param>
    /// <param name="generatorModel">The T5Gemma 2 directory that reranks or answers; null when none is needed.</param>
    /// <param name="embedding">How the embedding model runs (its session, and the vector length).</param>
    /// <param name="loggerFactory">Where the embedder logs.</param>
    public static RetrievalModels Load(string? embeddingModel, string? generatorModel, OnnxEmbeddingGeneratorOptions embedding, ILoggerFactory loggerFactory)
    {
        var generator = generatorModel is null ? null : Seq2SeqGenerator.Create(generatorModel, embedding.Session);
        try
        {
            var embedder = embeddingModel is null ? null
                : generator is not null && ModelDirectory.IsSameDirectory(embeddingModel, generatorModel!) ? generator.CreateEmbeddingGenerator(embedding, loggerFactory)
                : OnnxEmbeddingGenerator.Create(embeddingModel, embedding, loggerFactory);
            return new RetrievalModels(embedder, generator);
        }
        catch
        {
            generator?.Dispose();
            throw;
        }
    }

    /// <summary>Throws <see cref="ModelMismatchException"/> when the collection was built with another model than the embedder.</summary>
    public void ThrowIfMismatched(string collectionName, IPassageCollection collection)
    {
        if (this.Embedder is { } embedder)
        {
            ModelMismatchException.ThrowIfDiffers(collectionName, collection.Settings, embedder.CollectionSettings());
        }
    }

    /// <summary>The retriever over <paramref name="collection"/> with these models: it reranks when a generator is loaded.</summary>
    public PassageRetriever Retriever(IPassageCollection collection) =>
        new(this.Embedder, collection, this.Generator is { } generator ? new DecoderReranker(generator) : null);

    public void Dispose()
    {
        this.Embedder?.Dispose();
        this.Generator?.Dispose();
    }
}
