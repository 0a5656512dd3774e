namespace T5Gemma2.Rag.Server.Security;

/// <summary>
/// An API key as the service database keeps it: never the key itself, only its SHA-256 and its first characters
/// (so <c>t5rag keys list</c> can show which key is which).
/// </summary>
/// <param name="Name">The label it was created under; unique.</param>
/// <param name="Prefix">The key's first characters, shown in listings.</param>
/// <param name="Role">What it may do.</param>
/// <param name="Collections">The collections it may use; <c>*</c> alone means every collection.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="RevokedAt">When it was revoked; null while it works.</param>
public sealed record ApiKey(string Name, string Prefix, ApiKeyRole Role, IReadOnlyList<string> Collections, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt)
{
    /// <summary>The collections value that means every collection.</summary>
    public const string AllCollections = "*";

}
