using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Indexer.Stores;

namespace T5Gemma2.Rag.Indexer.Pipeline;

/// <summary>A new or changed document cut into passages, on its way to embedding and the store.</summary>
/// <param name="Record">The record to store with its passages.</param>
/// <param name="Passages">Its passages.</param>
/// <param name="Origin">The file (or source) it came from, for failure reports.</param>
/// <param name="Previous">The stored record it replaces; null when it is new.</param>
internal sealed record PreparedDocument(DocumentRecord Record, List<Passage> Passages, string Origin, DocumentRecord? Previous)
{
    /// <summary>Ids of passages whose stored vectors were reused (set when embedded).</summary>
    public HashSet<string> ReusedIds { get; } = new(StringComparer.Ordinal);
}
