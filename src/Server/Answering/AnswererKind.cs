namespace T5Gemma2.Rag.Server.Answering;

/// <summary>Which kind of chat model answers questions.</summary>
public enum AnswererKind
{
    /// <summary>The T5Gemma 2 decoder, with cross-attention over the packed passages (needs a generator).</summary>
    T5Gemma2,

    /// <summary>An OpenAI-compatible chat completions endpoint (OpenAI, Azure OpenAI, vLLM, LM Studio, another t5rag serve).</summary>
    OpenAi,

    /// <summary>An Ollama server.</summary>
    Ollama,
}
