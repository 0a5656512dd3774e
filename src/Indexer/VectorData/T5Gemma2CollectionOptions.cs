using Microsoft.Extensions.VectorData;

namespace T5Gemma2.Rag.Indexer.VectorData;

/// <summary>Options of one <see cref="T5Gemma2VectorStoreCollection{TKey, TRecord}"/>: MEVD's record definition and embedding generator, and the model id the collection records.</summary>
public sealed class T5Gemma2CollectionOptions : VectorStoreCollectionOptions
{
    public T5Gemma2CollectionOptions()
    {
    }

    public T5Gemma2CollectionOptions(T5Gemma2CollectionOptions source)
        : base(source)
    {
        ArgumentNullException.ThrowIfNull(source);
        this.ModelId = source.ModelId;
    }

    /// <summary>
    /// The embedding model the vectors come from, recorded when the collection is created and compared when it is opened
    /// (so records embedded by two models never share a collection); null: the embedding generator's
    /// <c>DefaultModelId</c>, or "external" (vectors the caller computed; not compared) when neither is known.
    /// </summary>
    public string? ModelId { get; set; }
}
