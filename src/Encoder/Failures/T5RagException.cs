namespace T5Gemma2.Rag;

/// <summary>
/// The base of every failure this project expects and explains: bad input, a model mismatch, a store or remote service
/// that cannot serve, no passages to answer from. The message is one line naming the file, field or service and what
/// was expected, fit to show a user as it is; <see cref="Kind"/> says what kind of failure it is. Any other exception
/// reaching a front end is a bug.
/// </summary>
public abstract class T5RagException : Exception
{
    protected T5RagException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    /// <summary>What kind of failure this is; front ends decide from this alone (an exit code, an error for the model).</summary>
    public abstract FailureKind Kind { get; }
}
