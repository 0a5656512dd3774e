using Qdrant.Client.Grpc;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Indexer.Stores;

namespace T5Gemma2.Rag.Tests.Stores.QdrantFake;

/// <summary>Documents, vectors and hand-written Qdrant conditions for the tests that look at the requests the store sends.</summary>
internal static class FakeQdrantData
{
    public const int Dimensions = 8;

    public static CollectionSettings Settings { get; } = new(Dimensions, "fake-model");

    public static DateTimeOffset IndexedAt { get; } = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A document of <paramref name="texts"/> under /kb/, one passage each, every optional field set.</summary>
    public static DocumentUpdate Document(string documentId, IReadOnlyDictionary<string, string>? tags, params (string Text, float[] Vector)[] texts)
    {
        var passages = texts.Select((t, i) =>
        {
            string hash = PassageIds.ContentHash(t.Text);
            return new StoredPassage(new Passage
            {
                Id = PassageIds.Create(documentId, i, hash),
                DocumentId = documentId,
                Source = "/kb/" + documentId,
                Title = "Guide",
                SectionPath = "Intro > Setup",
                Page = i + 1,
                Start = i * 10,
                Length = t.Text.Length,
                ChunkIndex = i,
                Text = t.Text,
                ContentHash = hash,
                TokenCount = 3,
                Tags = tags ?? new Dictionary<string, string>(),
                IndexedAt = IndexedAt,
            }, t.Vector);
        }).ToList();
        return new DocumentUpdate(new DocumentRecord(documentId, "/kb/" + documentId, "hash-of-" + documentId, passages.Count, IndexedAt), passages);
    }

    public static float[] Axis(int i, float rest = 0)
    {
        var v = Enumerable.Repeat(rest, Dimensions).ToArray();
        v[i] = 1;
        return v;
    }

    public static Condition Keyword(string key, string value) => new() { Field = new FieldCondition { Key = key, Match = new Match { Keyword = value } } };

    public static Condition Keywords(string key, params string[] values) => new() { Field = new FieldCondition { Key = key, Match = new Match { Keywords = new RepeatedStrings { Strings = { values } } } } };

    public static Condition AtLeast(string key, double value) => new() { Field = new FieldCondition { Key = key, Range = new global::Qdrant.Client.Grpc.Range { Gte = value } } };

    public static Filter All(params Condition[] conditions) => new() { Must = { conditions } };
}
