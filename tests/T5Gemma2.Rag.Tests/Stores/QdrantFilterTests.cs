using Qdrant.Client.Grpc;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Indexer.Stores.Qdrant;

namespace T5Gemma2.Rag.Tests.Stores;

/// <summary>PassageFilter → Qdrant filter protobuf, checked field by field without a server.</summary>
public sealed class QdrantFilterTests
{
    [Fact]
    public void AnEmptyFilterSendsNoConditions()
    {
        var plan = QdrantFilters.Translate(PassageFilter.None);
        Assert.Null(plan.Filter);
        Assert.Null(plan.ClientSourcePrefix);
        Assert.True(plan.Accepts("anything"));
    }

    [Fact]
    public void DocumentsMatchOneKeywordOrAnyOfSeveral()
    {
        var one = Single(QdrantFilters.Translate(new PassageFilter { DocumentIds = ["a.md"] }));
        Assert.Equal(("doc_id", "a.md"), (one.Key, one.Match.Keyword));

        var several = Single(QdrantFilters.Translate(new PassageFilter { DocumentIds = ["a.md", "b.md"] }));
        Assert.Equal("doc_id", several.Key);
        Assert.Equal(["a.md", "b.md"], several.Match.Keywords.Strings);
    }

    [Fact]
    public void ADirectoryPrefixRunsWhollyOnTheServer()
    {
        var plan = QdrantFilters.Translate(new PassageFilter { SourcePrefix = "/src/docs/" });
        var condition = Single(plan);
        Assert.Equal(("source_dirs", "/src/docs/"), (condition.Key, condition.Match.Keyword));
        Assert.Null(plan.ClientSourcePrefix);
    }

    [Fact]
    public void AnyOtherPrefixIsNarrowedToItsDirectoryAndFinishedOnTheClient()
    {
        var plan = QdrantFilters.Translate(new PassageFilter { SourcePrefix = "/src/do" });
        var condition = Single(plan);
        Assert.Equal(("source_dirs", "/src/"), (condition.Key, condition.Match.Keyword));
        Assert.Equal("/src/do", plan.ClientSourcePrefix);
        Assert.True(plan.Accepts("/src/docs/a.md"));
        Assert.True(plan.Accepts("/src/do"));
        Assert.False(plan.Accepts("/src/notes/c.txt"));

        // No separator at all: nothing to narrow by on the server.
        var bare = QdrantFilters.Translate(new PassageFilter { SourcePrefix = "notes" });
        Assert.Null(bare.Filter);
        Assert.Equal("notes", bare.ClientSourcePrefix);
        Assert.True(bare.Accepts("notes/c.txt"));
        Assert.False(bare.Accepts("docs/notes"));
    }

    [Fact]
    public void TagsMatchKeyValuePairsAndTheTenantTagItsOwnField()
    {
        var tags = new Dictionary<string, string> { ["team"] = "red", ["lang"] = "en" };
        var conditions = Conditions(QdrantFilters.Translate(new PassageFilter { Tags = tags }));
        Assert.Equal([("tag_pairs", "lang=en"), ("tag_pairs", "team=red")], conditions.Select(c => (c.Key, c.Match.Keyword)));

        var tenant = Conditions(QdrantFilters.Translate(new PassageFilter { Tags = tags }, tenantTag: "team"));
        Assert.Equal([("tag_pairs", "lang=en"), ("tenant", "red")], tenant.Select(c => (c.Key, c.Match.Keyword)));
    }

    [Fact]
    public void IndexedAfterIsAnIntegerRangeOnUnixMilliseconds()
    {
        var after = new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
        var condition = Single(QdrantFilters.Translate(new PassageFilter { IndexedAfter = after }));
        Assert.Equal("indexed_at", condition.Key);
        Assert.True(condition.Range.HasGte);
        Assert.False(condition.Range.HasGt || condition.Range.HasLt || condition.Range.HasLte);
        Assert.Equal(after.ToUnixTimeMilliseconds(), (long)condition.Range.Gte);
    }

    [Fact]
    public void AllConditionsAreRequiredTogether()
    {
        var filter = new PassageFilter
        {
            DocumentIds = ["x"],
            SourcePrefix = "/a/",
            Tags = new Dictionary<string, string> { ["k"] = "v" },
            IndexedAfter = DateTimeOffset.UnixEpoch.AddDays(1),
        };
        var plan = QdrantFilters.Translate(filter);
        Assert.Empty(plan.Filter!.Should);
        Assert.Empty(plan.Filter.MustNot);
        Assert.Equal(["doc_id", "source_dirs", "tag_pairs", "indexed_at"], Conditions(plan).Select(c => c.Key));

        var withKind = QdrantFilters.And(plan.Filter, QdrantFilters.OfKind("passage"));
        Assert.Equal(5, withKind.Must.Count);
        Assert.Equal(4, plan.Filter.Must.Count);
        Assert.Equal(("kind", "passage"), (withKind.Must[4].Field.Key, withKind.Must[4].Field.Match.Keyword));
    }

    [Fact]
    public void SourceDirectoriesAreEveryPrefixEndingAtASeparator()
    {
        Assert.Equal(["/", "/src/", "/src/docs/"], QdrantFilters.SourceDirectories("/src/docs/a.md"));
        Assert.Equal(["C:\\", "C:\\notes\\"], QdrantFilters.SourceDirectories("C:\\notes\\b.txt"));
        Assert.Empty(QdrantFilters.SourceDirectories("readme.md"));
        Assert.Equal(QdrantFilters.MaxSourceDirectories, QdrantFilters.SourceDirectories(string.Concat(Enumerable.Repeat("d/", 100))).Count);
    }

    [Fact]
    public void TagPairsEscapeTheKeySoNoTwoTagsCollide()
    {
        Assert.Equal("team=red", QdrantFilters.TagPair("team", "red"));
        Assert.Equal("a\\=b=c", QdrantFilters.TagPair("a=b", "c"));
        Assert.Equal("a=b=c", QdrantFilters.TagPair("a", "b=c"));
        Assert.Equal("a\\\\=x", QdrantFilters.TagPair("a\\", "x"));
        Assert.NotEqual(QdrantFilters.TagPair("a=b", "c"), QdrantFilters.TagPair("a", "b=c"));
    }

    private static FieldCondition Single(QdrantFilterPlan plan) => Assert.Single(Conditions(plan));

    private static List<FieldCondition> Conditions(QdrantFilterPlan plan)
    {
        Assert.NotNull(plan.Filter);
        Assert.All(plan.Filter.Must, c => Assert.Equal(Condition.ConditionOneOfOneofCase.Field, c.ConditionOneOfCase));
        return [.. plan.Filter.Must.Select(c => c.Field)];
    }
}
