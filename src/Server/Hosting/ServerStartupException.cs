namespace T5Gemma2.Rag.Server.Hosting;

/// <summary>The server will not start as configured (an open address with no API key): a usage error, exit 2.</summary>
public sealed class ServerStartupException : T5RagException
{
    public ServerStartupException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    public override FailureKind Kind => FailureKind.Usage;
}
