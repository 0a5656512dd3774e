using T5Gemma2.Rag.Indexer.Stores;

namespace T5Gemma2.Rag.SemanticKernel;

/// <summary>
/// What the host's filter (<see cref="KnowledgeBaseOptions.Retrieval"/>'s <c>Filter</c>) lets a caller write and delete,
/// not only read: a document may be added, replaced or forgotten only when it is, and stays, inside that filter, so a
/// model limited to one tenant's folder cannot overwrite or remove another tenant's documents by naming their ids.
/// </summary>
internal sealed class HostScope(PassageFilter filter)
{
    /// <summary>The host's filter.</summary>
    public PassageFilter Filter { get; } = filter;

    /// <summary>Whether the host set any filter at all.</summary>
    public bool IsLimited => !this.Filter.IsEmpty;

    /// <summary>The source a new document gets when the caller names none: its id, under the host's source prefix when there is one.</summary>
    public string DefaultSource(string documentId) =>
        this.Filter.SourcePrefix is { } prefix && !documentId.StartsWith(prefix, StringComparison.Ordinal) ? prefix + documentId : documentId;

    /// <summary>Why a document with this id and source may not be written here, or null when it may.</summary>
    public string? RefuseWrite(string documentId, string source)
    {
        if (this.Filter.DocumentIds is { Count: > 0 } ids && !ids.Contains(documentId))
        {
            return $"document '{documentId}' is outside what this knowledge base may change.";
        }

        return this.Filter.SourcePrefix is { } prefix && !source.StartsWith(prefix, StringComparison.Ordinal)
            ? $"source '{source}' is outside what this knowledge base may change (sources starting with '{prefix}')."
            : null;
    }

    /// <summary>
    /// Why the document stored under <paramref name="documentId"/>, if there is one, may not be replaced or removed by this
    /// caller; null when there is none or it lies inside the host's filter.
    /// </summary>
    public async Task<string?> RefuseExistingAsync(IPassageCollection collection, string documentId, CancellationToken cancellationToken)
    {
        if (!this.IsLimited)
        {
            return null;
        }

        string outside = $"document '{documentId}' is outside what this knowledge base may change.";
        if (await collection.GetDocumentAsync(documentId, cancellationToken).ConfigureAwait(false) is not { } existing)
        {
            return null;
        }

        if (this.RefuseWrite(documentId, existing.Source) is not null || (this.Filter.IndexedAfter is { } after && existing.IndexedAt < after))
        {
            return outside;
        }

        // A document's tags are not in its record: under a tag filter, an existing document cannot be shown to be inside.
        return this.Filter.Tags is { Count: > 0 } ? outside : null;
    }

    /// <summary>
    /// Why a retrieval found nothing, in one sentence: the collection is empty, the caller's filter matches nothing the
    /// knowledge base may show, or nothing matched well enough. The host's own filter is not described: it is the
    /// host's configuration, and the caller sees only that its filter found nothing inside it.
    /// </summary>
    public async Task<string> ExplainNothingFoundAsync(IPassageCollection collection, PassageFilter asked, double? scoreThreshold, CancellationToken cancellationToken)
    {
        var info = await collection.GetInfoAsync(cancellationToken).ConfigureAwait(false);
        if (info.Passages == 0)
        {
            return $"collection '{collection.Name}' is empty: nothing has been indexed into it yet; add documents with index_text or index_file.";
        }

        string within = this.IsLimited ? " among the passages this knowledge base may show" : string.Empty;
        if (!asked.IsEmpty)
        {
            return $"no passage of collection '{collection.Name}' matches the filter ({RetrievalOverrides.Describe(asked)}){within}; check the source prefix or document id, or search without them.";
        }

        string threshold = scoreThreshold is { } t ? $" (score threshold {t})" : string.Empty;
        return $"no passage of collection '{collection.Name}'{within} matches the query well enough{threshold}; try other words.";
    }
}
