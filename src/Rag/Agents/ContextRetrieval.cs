namespace T5Gemma2.Rag.Agents;

/// <summary>When <see cref="KnowledgeContextProvider"/> retrieves passages for an agent.</summary>
public enum ContextRetrieval
{
    /// <summary>Before every run: the passages for the conversation's latest user message go in with it.</summary>
    EveryTurn,

    /// <summary>
    /// Only when the model calls the provider's search function (<see cref="KnowledgeContextOptions.FunctionName"/>):
    /// nothing is added to a turn the model can answer without the knowledge base.
    /// </summary>
    OnSearchCall,
}
