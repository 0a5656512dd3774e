namespace T5Gemma2.Rag.Packing;

/// <summary>
/// How retrieved passages and the question become the encoder input. The released T5Gemma 2 checkpoints are
/// pretrained only (no instruction-tuned ones), so the template is plain and every piece of it is configurable for
/// checkpoints fine-tuned on another format. The default input reads:
/// <code>
/// &lt;bos&gt;Answer the question from the numbered passages and cite them as [n].
///
/// [1] Title — source › Section, p. 3
/// passage text
///
/// [2] …
///
/// Question: …
/// Answer:
/// </code>
/// </summary>
public sealed class PackingOptions
{
    /// <summary>Tokens the input may hold, bos included; null: the model's maximum positions.</summary>
    public int? TokenBudget { get; init; }

    public QuestionPlacement QuestionPlacement { get; init; } = QuestionPlacement.AfterPassages;

    public PassageOrder Order { get; init; } = PassageOrder.ByScore;

    /// <summary>The first line of the input.</summary>
    public string Instruction { get; init; } = "Answer the question from the numbered passages and cite them as [n].";

    /// <summary>A passage's heading; placeholders {n}, {title}, {source}, {location} (" › section, p. N" or empty).</summary>
    public string PassageHeader { get; init; } = "[{n}] {title} — {source}{location}";

    /// <summary>The question line; placeholder {question}.</summary>
    public string QuestionTemplate { get; init; } = "Question: {question}";

    /// <summary>What ends the input, where the decoder's answer continues.</summary>
    public string AnswerPrefix { get; init; } = "Answer:";

    /// <summary>A passage cut by the budget is kept only when at least this many of its tokens fit.</summary>
    public int MinimumTruncatedPassageTokens { get; init; } = 32;

    /// <summary>The first passage's marker number: an agent given passages twice in one turn numbers the second lot on from the first, so each [n] names one passage.</summary>
    public int FirstNumber { get; init; } = 1;

    public static PackingOptions Default { get; } = new();
}
