using Microsoft.Data.Sqlite;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Indexer.Stores.Embedded;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.VectorData;

/// <summary>The VectorData contract against the embedded SQLite store.</summary>
public sealed class EmbeddedVectorStoreTests(SharedMiniLm miniLm) : VectorStoreContract(miniLm), IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        this._directory.Dispose();
    }

    protected override IPassageStore? CreateStore(out string? skipReason)
    {
        skipReason = null;
        return EmbeddedPassageStore.Open(this._directory.Combine("store-" + Guid.NewGuid().ToString("N")[..8]));
    }
}
