namespace T5Gemma2.Rag;

/// <summary>
/// What kind of failure a <see cref="T5RagException"/> is: what a caller can do about it, and the one thing a front end
/// (the CLI's exit code, the plugin's errors-as-data) decides from. Each kind is documented with its exit code in the README.
/// </summary>
public enum FailureKind
{
    /// <summary>A file given as input (model, tokenizer, configuration, corpus, document, list) is missing, unreadable or of another layout.</summary>
    InputFile,

    /// <summary>The command line or the settings ask for something that cannot be done as given.</summary>
    Usage,

    /// <summary>A collection was used with an embedding model other than the one it was built with.</summary>
    ModelMismatch,

    /// <summary>
    /// The store cannot be used as asked: a read-only or damaged store, a newer schema, a collection that is not there,
    /// or a Qdrant collection that refuses the request (gone, or of another vector size). No retry mends it.
    /// </summary>
    StoreUnusable,

    /// <summary>The store's server could not be reached, did not answer in time, or refused access: the same request may succeed later.</summary>
    StoreUnavailable,

    /// <summary>A write to the store was refused whole: its disk is full, or another process held the write lock past the wait.</summary>
    StoreWriteFailed,

    /// <summary>The Hugging Face Hub could not be reached, refused access, or sent a file that failed its check.</summary>
    HubUnavailable,

    /// <summary>An execution provider (CUDA) was asked for and this process cannot load it.</summary>
    ExecutionProviderUnavailable,

    /// <summary>Nothing was retrieved for a question (an empty collection, or a filter that matches nothing), so there is nothing to answer from.</summary>
    NoPassages,

    /// <summary>The chat model that answers (an OpenAI-compatible or Ollama endpoint) could not be reached, refused access, or failed: the same question may succeed later.</summary>
    AnswererUnavailable,

    /// <summary>
    /// The caller cancelled. No <see cref="T5RagException"/> carries this kind: cancellation stays an
    /// <see cref="OperationCanceledException"/>, which every async API throws; it is here so the mappings name it with the rest.
    /// </summary>
    Cancelled,
}
