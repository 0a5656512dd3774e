using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Packing;

namespace T5Gemma2.Rag.Answering;

/// <summary>An answer with its sources and what it took.</summary>
/// <param name="Text">The generated answer.</param>
/// <param name="Citations">Every passage given to the model, in marker order, each saying whether the text cites it.</param>
/// <param name="Context">Exactly what the model received.</param>
/// <param name="TimedOut">Generation was stopped by <see cref="AskOptions.Timeout"/>; the text is what came before.</param>
/// <param name="Timings">Time per stage: retrieve, pack, generate.</param>
public sealed record Answer(string Text, IReadOnlyList<Citation> Citations, PackedContext Context, bool TimedOut, AnswerTimings Timings)
{
    /// <summary>Tokens the model generated (what an API bills as completion tokens); null when unknown: timed out, or answered by a chat model (its own tokenizer counts).</summary>
    public int? GeneratedTokenCount { get; init; }

    /// <summary>Why generation ended; null when unknown (timed out, or answered by a chat model).</summary>
    public FinishReason? FinishReason { get; init; }
}
