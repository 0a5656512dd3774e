using T5Gemma2.Rag.Indexer.Stores.Fields;

namespace T5Gemma2.Rag.Indexer.Stores;

/// <summary>A document's new state: its record and all its passages, which replace whatever the collection held for it.</summary>
public sealed record DocumentUpdate(DocumentRecord Document, IReadOnlyList<StoredPassage> Passages)
{
    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the first passage whose vector has another length than the
    /// collection's, or that belongs to another document: checked before a store writes anything.
    /// </summary>
    public static void ThrowIfInvalid(IReadOnlyList<DocumentUpdate> updates, string collection, int dimensions)
    {
        ArgumentNullException.ThrowIfNull(updates);
        foreach (var update in updates)
        {
            foreach (var stored in update.Passages)
            {
                if (stored.Vector.Length != dimensions)
                {
                    throw new ArgumentException($"passage {stored.Passage.Id} of document '{update.Document.DocumentId}' has a {stored.Vector.Length}-dimension vector; collection '{collection}' holds {dimensions}.", nameof(updates));
                }

                PassageFields.ThrowIfInvalid(stored.Passage.Fields, stored.Passage.Id);
                if (stored.Passage.DocumentId != update.Document.DocumentId)
                {
                    throw new ArgumentException($"passage {stored.Passage.Id} belongs to document '{stored.Passage.DocumentId}', not '{update.Document.DocumentId}'.", nameof(updates));
                }
            }
        }
    }
}
