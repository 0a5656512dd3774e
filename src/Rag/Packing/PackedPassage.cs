using T5Gemma2.Rag.Retrieval;

namespace T5Gemma2.Rag.Packing;

/// <summary>A passage as it went into the encoder input: its marker number, its tokens, and whether the budget cut it.</summary>
public sealed record PackedPassage(int Number, RetrievedPassage Passage, int TokenCount, bool Truncated);
