using T5Gemma2.Rag.Answering;

namespace T5Gemma2.Rag.SemanticKernel;

/// <summary>What the ask function returns: the answer with its sources, or why there is none.</summary>
/// <param name="Answer">The generated answer, citing passages as [n]; null when <paramref name="Error"/> is set.</param>
/// <param name="Citations">The passages the model was given, in marker order, each saying whether the answer cites it.</param>
/// <param name="TimedOut">Generation hit the time limit; the answer is what came before.</param>
/// <param name="Error">Why there is no answer (empty question, nothing retrieved, no answering model); null on success.</param>
public sealed record AnswerResult(string? Answer, IReadOnlyList<Citation> Citations, bool TimedOut = false, string? Error = null)
{
    internal static AnswerResult Failed(string error) => new(null, [], Error: error);
}
