namespace T5Gemma2.Rag.Cli;

/// <summary>What t5rag's exit status says (documented in the README), and the one place failures are mapped to it.</summary>
public static class ExitCodes
{
    /// <summary>Everything asked for was done.</summary>
    public const int Success = 0;

    /// <summary>An unexpected failure inside t5rag (a bug: please report it with the message).</summary>
    public const int InternalError = 1;

    /// <summary>The command line was wrong: unknown option, missing argument, bad value.</summary>
    public const int UsageError = 2;

    /// <summary>An input file (model, tokenizer, corpus) is missing, unreadable or not of the expected layout.</summary>
    public const int InputError = 3;

    /// <summary>A batch finished but some of its items were bad; each was reported and the rest were processed.</summary>
    public const int PartialFailure = 4;

    /// <summary>A remote service (the Hugging Face Hub, a Qdrant server, the chat model that answers) could not be reached, refused access, or sent a file that failed its check.</summary>
    public const int Unavailable = 5;

    /// <summary>The store could not be written: its disk is full, or another process held its write lock past the wait. Nothing was half-written; what was acknowledged before is kept.</summary>
    public const int StoreWriteFailed = 6;

    /// <summary>Cancelled by the user (Ctrl+C).</summary>
    public const int Cancelled = 130;

    /// <summary>The exit code of each kind of failure; the README's exit-code paragraph says the same in words.</summary>
    public static int For(FailureKind kind) => kind switch
    {
        FailureKind.Usage => UsageError,
        FailureKind.InputFile or FailureKind.ModelMismatch or FailureKind.StoreUnusable or FailureKind.ExecutionProviderUnavailable or FailureKind.NoPassages => InputError,
        FailureKind.StoreUnavailable or FailureKind.HubUnavailable or FailureKind.AnswererUnavailable => Unavailable,
        FailureKind.StoreWriteFailed => StoreWriteFailed,
        FailureKind.Cancelled => Cancelled,

        // A kind added without an exit code is a bug, and is reported as one.
        _ => InternalError,
    };

    /// <summary>
    /// The kind of failure <paramref name="exception"/> is: its own for the family, <see cref="FailureKind.Cancelled"/>
    /// for a cancellation the user asked for (<paramref name="cancellationToken"/>); null for anything else, a bug.
    /// </summary>
    public static FailureKind? KindOf(Exception exception, CancellationToken cancellationToken) => exception switch
    {
        T5RagException failure => failure.Kind,
        OperationCanceledException when cancellationToken.IsCancellationRequested => FailureKind.Cancelled,
        _ => null,
    };
}
