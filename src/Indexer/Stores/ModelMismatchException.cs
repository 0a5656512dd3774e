namespace T5Gemma2.Rag.Indexer.Stores;

/// <summary>
/// A collection was opened, indexed or searched with an embedding model other than the one it was built with (its
/// vectors would be meaningless to compare). Every store and every caller that checks the model throws this one type.
/// </summary>
/// <remarks>
/// Was an <see cref="InvalidOperationException"/>; no caller caught it as one (every catch of that type in the project
/// surrounds JSON reading or a JSON string), so it joined the family, where front ends map it by its <see cref="Kind"/>.
/// </remarks>
public sealed class ModelMismatchException : T5RagException
{
    /// <param name="collection">The collection's name.</param>
    /// <param name="stored">The model and dimensions the collection holds.</param>
    /// <param name="given">The model and dimensions it was used with.</param>
    public ModelMismatchException(string collection, CollectionSettings stored, CollectionSettings given)
        : base(Describe(collection, stored, given))
    {
        ArgumentNullException.ThrowIfNull(stored);
        ArgumentNullException.ThrowIfNull(given);
        this.Collection = collection;
        this.Stored = stored;
        this.Given = given;
    }

    /// <summary>The collection's name.</summary>
    public string Collection { get; }

    /// <summary>The model and dimensions the collection holds.</summary>
    public CollectionSettings Stored { get; }

    /// <summary>The model and dimensions it was used with.</summary>
    public CollectionSettings Given { get; }

    public override FailureKind Kind => FailureKind.ModelMismatch;

    /// <summary>Throws when <paramref name="given"/> is not the model, dimension count and prompts of <paramref name="stored"/>.</summary>
    /// <exception cref="ModelMismatchException">They differ.</exception>
    public static void ThrowIfDiffers(string collection, CollectionSettings stored, CollectionSettings given)
    {
        ArgumentNullException.ThrowIfNull(stored);
        if (!stored.IsCompatibleWith(given))
        {
            throw new ModelMismatchException(collection, stored, given);
        }
    }

    private static string Describe(string collection, CollectionSettings? stored, CollectionSettings? given)
    {
        if (stored is not null && given is not null && stored.Dimensions == given.Dimensions && stored.ModelId == given.ModelId)
        {
            // Same model and length, other prompts: the vectors live in another part of the space.
            string which = stored.QueryPrompt is not null && given.QueryPrompt is not null && stored.QueryPrompt != given.QueryPrompt ? "query" : "passage";
            string Quoted(string? prompt) => $"\"{prompt}\"";
            var (was, now) = which == "query" ? (stored.QueryPrompt, given.QueryPrompt) : (stored.PassagePrompt, given.PassagePrompt);
            return $"collection '{collection}' was indexed by model '{stored.ModelId}' with the {which} prompt {Quoted(was)}; the model given uses {Quoted(now)}. Use the same prompts (t5rag.json query_prefix/passage_prefix) or another collection.";
        }

        return $"collection '{collection}' holds {stored?.Dimensions}-dimension vectors of model '{stored?.ModelId}'; the model given makes {given?.Dimensions}-dimension vectors as '{given?.ModelId}'. Use another collection, or the same model and vector length.";
    }
}
