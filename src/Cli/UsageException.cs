namespace T5Gemma2.Rag.Cli;

/// <summary>The command line (or its settings) asks for something that cannot be done as given; the exit code is <see cref="ExitCodes.UsageError"/>.</summary>
public sealed class UsageException : T5RagException
{
    public UsageException(string message)
        : base(message)
    {
    }

    public override FailureKind Kind => FailureKind.Usage;
}
