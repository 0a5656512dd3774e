using Microsoft.Extensions.AI;

namespace T5Gemma2.Rag.Indexer.VectorData;

/// <summary>Options of a <see cref="T5Gemma2VectorStore"/>, the defaults of the collections it hands out.</summary>
public sealed class T5Gemma2VectorStoreOptions
{
    /// <summary>Embeds the vector properties of type string (or any input a generator takes) and string search values; a record definition's or property's own generator takes precedence.</summary>
    public IEmbeddingGenerator? EmbeddingGenerator { get; set; }

    /// <summary>The model id collections record (<see cref="T5Gemma2CollectionOptions.ModelId"/>).</summary>
    public string? ModelId { get; set; }
}
