namespace T5Gemma2.Rag.Cli;

/// <summary>The command line (or its settings) asks for something that cannot be done as given; the exit code is <see cref="ExitCodes.UsageError"/>.</summary>
public sealed class UsageException : T5RagException
{
    public UsageException(string message)
        : base(message)
    {
    }

    /// <summary>The usage error an argument check's exception is: its message without the " (Parameter 'x')" .NET appends.</summary>
    public static UsageException From(ArgumentException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return new UsageException(exception.Message.Split(" (Parameter", 2)[0]);
    }

    public override FailureKind Kind => FailureKind.Usage;
}
