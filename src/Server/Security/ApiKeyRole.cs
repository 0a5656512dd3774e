namespace T5Gemma2.Rag.Server.Security;

/// <summary>What an API key may do within its collections; each role includes the ones before it.</summary>
public enum ApiKeyRole
{
    /// <summary>Search and ask its collections; list them; embeddings and chat.</summary>
    Reader,

    /// <summary>Also upload and delete documents in its collections.</summary>
    Writer,

    /// <summary>Also create and delete collections and manage keys, across every collection.</summary>
    Admin,
}
