using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Server.Collections;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>Documents put into a served collection straight through its pipeline, as a finished ingestion job leaves them.</summary>
internal static class ServerDocuments
{
    /// <summary>Indexes texts (each named as its id and source) into the collection, creating it, and returns its services.</summary>
    public static async Task<CollectionServices> IndexAsync(this KnowledgeBaseServerFactory server, string collection, params (string Name, string Text)[] documents)
    {
        var services = await server.Collections.OpenOrCreateAsync(collection, TestContext.Current.CancellationToken);
        var loaded = documents.Select(d => new LoadedDocument { DocumentId = d.Name, Source = d.Name, Text = d.Text }).ToAsyncEnumerable();
        var summary = await services.Pipeline.IndexDocumentsAsync(loaded, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(summary.Succeeded);
        return services;
    }
}
