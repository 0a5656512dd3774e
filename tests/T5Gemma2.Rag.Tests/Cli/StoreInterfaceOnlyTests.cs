using System.Text.RegularExpressions;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Cli;

/// <summary>
/// The CLI talks to stores through <c>IPassageStore</c> and <c>IPassageCollection</c> only: no command checks which
/// store it has (type tests, casts, switch arms on the embedded or Qdrant types) to do something store-specific; the
/// interfaces carry it (<c>Location</c>, <c>BeginBulkWriteAsync</c>). Stores are made from a location by
/// <c>PassageStores.Open</c> in the Indexer, so no CLI file needs to name one. Exempt: src/Cli/Bench, whose
/// benchmarks measure one store on purpose.
/// </summary>
public sealed class StoreInterfaceOnlyTests
{
    private const string StoreType = @"(?:Embedded|Qdrant)Passage(?:Store|Collection)\b";

    /// <summary>The forms of a type check on a store type, each with a line it must catch (so the scan itself is tested).</summary>
    private static readonly (string Form, Regex Pattern, string Example)[] s_checks =
    [
        ("type test", new($@"\b(?:is|as)\s+(?:not\s+)?{StoreType}"), "if (collection is EmbeddedPassageCollection embedded && store is EmbeddedPassageStore local"),
        ("switch arm", new($@"^\s*{StoreType}(?:\s+\w+)?\s*=>"), "        QdrantPassageStore qdrant => qdrant.Location,"),
        ("case label", new($@"\bcase\s+{StoreType}"), "case QdrantPassageCollection q:"),
        ("cast", new($@"\(\s*{StoreType}\s*\)\s*[\w(]"), "var q = (QdrantPassageCollection)collection;"),
        ("typeof or OfType", new($@"(?:typeof\s*\(\s*|OfType<\s*){StoreType}"), "if (store.GetType() == typeof(EmbeddedPassageStore))"),
        ("property pattern", new($@":\s*{StoreType}\s*[}},]"), "if (this is { Store: QdrantPassageStore })"),
    ];

    [Fact]
    public void EachFormOfTypeCheckIsRecognised()
    {
        foreach (var (form, pattern, example) in s_checks)
        {
            Assert.True(pattern.IsMatch(example), $"{form}: the pattern misses \"{example}\"");
        }

        Assert.DoesNotContain(s_checks, c => c.Pattern.IsMatch("await using var bulkWrite = await collection.BeginBulkWriteAsync(slowStep, cancellationToken);"));
    }

    [Fact]
    public void NoCliSourceOutsideTheBenchmarksTypeChecksAStore()
    {
        string cli = Path.Combine(TestAssets.RepositoryRoot, "src", "Cli");
        string bench = Path.Combine(cli, "Bench") + Path.DirectorySeparatorChar;
        var files = Directory.EnumerateFiles(cli, "*.cs", SearchOption.AllDirectories)
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToList();
        Assert.Contains(files, path => path.EndsWith("IndexCommand.cs", StringComparison.Ordinal));
        Assert.Contains(files, path => path.StartsWith(bench, StringComparison.Ordinal));

        var offenders = (
            from path in files
            where !path.StartsWith(bench, StringComparison.Ordinal)
            from line in File.ReadLines(path).Select((text, index) => (Text: text, Number: index + 1))
            from check in s_checks
            where check.Pattern.IsMatch(line.Text)
            select $"{Path.GetRelativePath(cli, path)}:{line.Number}: {check.Form}: {line.Text.Trim()}").ToList();

        Assert.True(offenders.Count == 0, "the CLI type-checks stores; use IPassageStore/IPassageCollection instead:\n" + string.Join('\n', offenders));
    }
}
