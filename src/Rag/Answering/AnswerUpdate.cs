using T5Gemma2.Rag.Packing;

namespace T5Gemma2.Rag.Answering;

/// <summary>
/// One step of a streamed answer: first the packed <see cref="Context"/> (so sources can be shown at once), then text
/// <see cref="Delta"/>s as they are generated, then the complete <see cref="Answer"/>.
/// </summary>
public sealed record AnswerUpdate(PackedContext? Context = null, string? Delta = null, Answer? Answer = null);
