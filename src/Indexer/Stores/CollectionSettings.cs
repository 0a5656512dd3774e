using T5Gemma2.Rag.Indexer.Stores.Fields;

namespace T5Gemma2.Rag.Indexer.Stores;

/// <summary>
/// What a collection is fixed to when created: the embedding model, the length of its vectors (a Matryoshka cut when
/// shorter than the model's width), and the prompts its queries and passages were embedded with.
/// </summary>
/// <param name="Dimensions">Vector length.</param>
/// <param name="ModelId">The embedding model's id; searching with another model's vectors would be meaningless.</param>
/// <param name="QueryPrompt">The text put before every query; null when not recorded (collections made before prompts were recorded).</param>
/// <param name="PassagePrompt">The text put before every passage; null when not recorded.</param>
public sealed record CollectionSettings(int Dimensions, string ModelId, string? QueryPrompt = null, string? PassagePrompt = null)
{
    /// <summary>
    /// The records' shape when the collection was created through the VectorData connector (kept by both stores, and
    /// its indexed fields indexed by Qdrant); null for a collection of indexed documents.
    /// </summary>
    public RecordSchema? Record { get; init; }

    /// <summary>Whether vectors made under <paramref name="given"/> can be searched against and added to a collection of these settings.</summary>
    /// <remarks>Prompts count only where both sides recorded them: a collection made before prompts were recorded stays usable.</remarks>
    public bool IsCompatibleWith(CollectionSettings given)
    {
        ArgumentNullException.ThrowIfNull(given);
        return this.Dimensions == given.Dimensions
            && string.Equals(this.ModelId, given.ModelId, StringComparison.Ordinal)
            && Same(this.QueryPrompt, given.QueryPrompt)
            && Same(this.PassagePrompt, given.PassagePrompt);
    }

    private static bool Same(string? stored, string? given) => stored is null || given is null || string.Equals(stored, given, StringComparison.Ordinal);
}
