namespace T5Gemma2.Rag.Packing;

/// <summary>Where the question goes in the encoder input.</summary>
public enum QuestionPlacement
{
    /// <summary>After the passages, just before the answer prefix (the default: nearest the answer).</summary>
    AfterPassages,

    /// <summary>Before the passages, so a truncated context never loses it and the encoder reads passages knowing it.</summary>
    BeforePassages,
}
