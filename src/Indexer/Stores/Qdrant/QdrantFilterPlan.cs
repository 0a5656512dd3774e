using Qdrant.Client.Grpc;

namespace T5Gemma2.Rag.Indexer.Stores.Qdrant;

/// <summary>A <see cref="PassageFilter"/> as Qdrant runs it.</summary>
/// <param name="Filter">The server-side conditions (AND); null when the filter is empty.</param>
/// <param name="ClientSourcePrefix">
/// Set when the source prefix does not end at a '/' or '\': the server then narrows to the enclosing directory and
/// each hit's source must still start with this (ordinal) on the client.
/// </param>
public sealed record QdrantFilterPlan(Filter? Filter, string? ClientSourcePrefix)
{
    /// <summary>Whether a point with this source passes the client-side part of the filter.</summary>
    public bool Accepts(string source) => this.ClientSourcePrefix is not { } prefix || source.StartsWith(prefix, StringComparison.Ordinal);
}
