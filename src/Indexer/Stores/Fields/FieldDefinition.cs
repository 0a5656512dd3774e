namespace T5Gemma2.Rag.Indexer.Stores.Fields;

/// <summary>One typed field of the passages of a collection written as records.</summary>
/// <param name="Name">The stored name (<see cref="PassageFields.ThrowIfInvalidName"/>).</param>
/// <param name="Kind">What it holds.</param>
/// <param name="IsIndexed">Whether the store should index it for filtering (Qdrant: a payload index; the embedded store filters in SQL either way).</param>
public sealed record FieldDefinition(string Name, FieldKind Kind, bool IsIndexed);
