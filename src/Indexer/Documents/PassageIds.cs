using System.Security.Cryptography;
using System.Text;

namespace T5Gemma2.Rag.Indexer.Documents;

/// <summary>
/// Deterministic passage ids and content hashes. A passage id is the first 16 bytes of
/// SHA-256("{documentId}\n{chunkIndex}\n{contentHash}") written as a UUID, so re-indexing the same content gives the
/// same ids (no duplicates, whatever the run or machine), and the id is a valid point id for Qdrant too.
/// </summary>
public static class PassageIds
{
    /// <summary>The passage id for a document's chunk.</summary>
    public static string Create(string documentId, int chunkIndex, string contentHash)
    {
        ArgumentNullException.ThrowIfNull(documentId);
        ArgumentNullException.ThrowIfNull(contentHash);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{documentId}\n{chunkIndex}\n{contentHash}"), hash);
        return new Guid(hash[..16], bigEndian: true).ToString("D");
    }

    /// <summary>A file's document id and source: its full path with '/' separators, whatever the system's.</summary>
    public static string ForFile(string fullPath)
    {
        ArgumentNullException.ThrowIfNull(fullPath);
        return fullPath.Replace('\\', '/');
    }

    /// <summary>Lower-case hex SHA-256 of the text's UTF-8 bytes.</summary>
    public static string ContentHash(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }
}
