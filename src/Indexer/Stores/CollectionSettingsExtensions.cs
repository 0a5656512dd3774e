using T5Gemma2.Rag.Encoder.Embeddings;

namespace T5Gemma2.Rag.Indexer.Stores;

/// <summary>The settings a collection takes from the embedding generator that fills and searches it.</summary>
public static class CollectionSettingsExtensions
{
    /// <summary>The generator's model, its vector length (after any Matryoshka cut) and the prompts it puts before queries and passages.</summary>
    public static CollectionSettings CollectionSettings(this OnnxEmbeddingGenerator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        return new CollectionSettings(generator.Dimensions, generator.Model.ModelId, generator.Model.QueryPrefix, generator.Model.PassagePrefix);
    }
}
