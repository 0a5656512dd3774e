namespace T5Gemma2.Rag.Indexer.Stores.Fields;

/// <summary>One key of a listing's order: a scalar field, ascending unless <paramref name="Descending"/>.</summary>
public sealed record FieldOrder(string Field, bool Descending = false);
