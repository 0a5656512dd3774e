using T5Gemma2.Rag.Answering;

namespace T5Gemma2.Rag.Agents;

/// <summary>What <see cref="KnowledgeContextProvider"/> keeps in a session: the passages given in its latest turn.</summary>
internal sealed class KnowledgeContextState
{
    /// <summary>The turn's id, which marks the context message given in it, so later turns can tell it from theirs.</summary>
    public string Turn { get; set; } = Guid.NewGuid().ToString("N");

    /// <summary>The passages given, numbered as the model saw them, each marked when the answer cited it.</summary>
    public List<Citation> Citations { get; set; } = [];
}
