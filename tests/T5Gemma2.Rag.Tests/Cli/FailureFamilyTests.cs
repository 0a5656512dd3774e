using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using T5Gemma2.Rag.Answering;
using T5Gemma2.Rag.Cli;
using T5Gemma2.Rag.Encoder;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Cli;

/// <summary>
/// The exception family: every exception type the project defines derives from <see cref="T5RagException"/>, and every
/// kind of failure has the exit code the README documents, decided in one place (<see cref="ExitCodes.For"/>).
/// </summary>
public sealed class FailureFamilyTests
{
    /// <summary>The README's exit codes, written out here as the specification (not read from the code under test).</summary>
    private static readonly Dictionary<FailureKind, int> s_documented = new()
    {
        [FailureKind.InputFile] = 3,
        [FailureKind.Usage] = 2,
        [FailureKind.ModelMismatch] = 3,
        [FailureKind.StoreUnusable] = 3,
        [FailureKind.StoreUnavailable] = 5,
        [FailureKind.StoreWriteFailed] = 6,
        [FailureKind.HubUnavailable] = 5,
        [FailureKind.ExecutionProviderUnavailable] = 3,
        [FailureKind.NoPassages] = 3,
        [FailureKind.AnswererUnavailable] = 5,
        [FailureKind.Cancelled] = 130,
    };

    /// <summary>Every exception type in the project's assemblies: Encoder, Indexer, Rag and the CLI.</summary>
    private static IEnumerable<Type> ProjectExceptionTypes() =>
        new[] { typeof(ModelFileException), typeof(DocumentLoadException), typeof(NoPassagesException), typeof(ExitCodes) }
            .Select(t => t.Assembly)
            .Distinct()
            .SelectMany(a => a.GetTypes())
            .Where(t => typeof(Exception).IsAssignableFrom(t) && !t.IsDefined(typeof(CompilerGeneratedAttribute), inherit: false));

    [Fact]
    public void EveryExceptionTypeTheProjectDefinesIsInTheFamily()
    {
        var types = ProjectExceptionTypes().ToList();

        // The reflection finds the types it must (so an empty scan cannot pass), and nothing outside the family.
        string[] known = ["ModelFileException", "HubException", "ExecutionProviderUnavailableException", "DocumentLoadException", "ModelMismatchException", "StoreWriteException", "StoreException", "NoPassagesException", "AnswererUnavailableException", "UsageException", "InputFileException"];
        Assert.Superset(known.ToHashSet(), types.Select(t => t.Name).ToHashSet());
        Assert.All(types, t => Assert.True(t == typeof(T5RagException) || t.IsSubclassOf(typeof(T5RagException)), $"{t.FullName} derives from {t.BaseType?.FullName}, not T5RagException"));
        Assert.All(types.Where(t => !t.IsAbstract), t => Assert.True(t.IsSealed, $"{t.FullName} is not sealed"));
    }

    [Fact]
    public void EveryConcreteFamilyTypeHasAKindWithADocumentedExitCode()
    {
        // Kind is a property of each type, not of its message, so an instance made without a constructor shows it.
        var kinds = ProjectExceptionTypes()
            .Where(t => !t.IsAbstract)
            .ToDictionary(t => t.Name, t => ((T5RagException)RuntimeHelpers.GetUninitializedObject(t)).Kind);

        Assert.Equal(FailureKind.InputFile, kinds["ModelFileException"]);
        Assert.Equal(FailureKind.InputFile, kinds["InputFileException"]);
        Assert.Equal(FailureKind.InputFile, kinds["DocumentLoadException"]);
        Assert.Equal(FailureKind.HubUnavailable, kinds["HubException"]);
        Assert.Equal(FailureKind.ExecutionProviderUnavailable, kinds["ExecutionProviderUnavailableException"]);
        Assert.Equal(FailureKind.ModelMismatch, kinds["ModelMismatchException"]);
        Assert.Equal(FailureKind.StoreWriteFailed, kinds["StoreWriteException"]);
        Assert.Equal(FailureKind.StoreUnusable, kinds["StoreException"]);
        Assert.Equal(FailureKind.NoPassages, kinds["NoPassagesException"]);
        Assert.Equal(FailureKind.AnswererUnavailable, kinds["AnswererUnavailableException"]);
        Assert.Equal(FailureKind.Usage, kinds["UsageException"]);
        Assert.All(kinds, k => Assert.NotEqual(ExitCodes.InternalError, ExitCodes.For(k.Value)));

        // A store's server that cannot serve is a remote failure, a store that refuses the request is not.
        Assert.Equal(FailureKind.StoreUnavailable, new Indexer.Stores.StoreException("cannot reach Qdrant") { ServiceUnavailable = true }.Kind);
        Assert.Equal(ExitCodes.Unavailable, ExitCodes.For(new Indexer.Stores.StoreException("cannot reach Qdrant") { ServiceUnavailable = true }.Kind));
    }

    [Fact]
    public void EveryFailureKindMapsToTheExitCodeTheReadmeDocuments()
    {
        Assert.Equal(Enum.GetValues<FailureKind>().ToHashSet(), s_documented.Keys.ToHashSet());
        Assert.All(s_documented, pair => Assert.True(ExitCodes.For(pair.Key) == pair.Value, $"{pair.Key}: exit {ExitCodes.For(pair.Key)}, documented {pair.Value}"));

        // A kind without an exit code (a value added later, or a cast) is reported as the bug it is.
        Assert.Equal(ExitCodes.InternalError, ExitCodes.For((FailureKind)999));

        // The README's exit-code paragraph lists each code and what it means.
        string readme = File.ReadAllText(Path.Combine(TestAssets.RepositoryRoot, "README.md"));
        var paragraph = Regex.Match(readme, @"^Exit codes: (?:.+\n)+", RegexOptions.Multiline);
        Assert.True(paragraph.Success, "README.md has no paragraph starting 'Exit codes: '");
        var listed = Regex.Matches(paragraph.Value, @"`(\d+)` ").Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
        Assert.Superset(s_documented.Values.ToHashSet(), listed);
        string text = Regex.Replace(paragraph.Value, @"\s+", " ");
        foreach (string phrase in new[] { "`2` usage error", "with another embedding model", "CUDA was asked for and is absent", "nothing was retrieved to answer from", "the store cannot be used as asked", "the Hugging Face Hub could not be reached", "a Qdrant server could not be reached", "`6` the store could not be written", "`130` cancelled" })
        {
            Assert.Contains(phrase, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void CancellationIsAKindOnlyWhenTheUserAskedForIt()
    {
        using var asked = new CancellationTokenSource();
        asked.Cancel();
        Assert.Equal(FailureKind.Cancelled, ExitCodes.KindOf(new OperationCanceledException(), asked.Token));
        Assert.Equal(FailureKind.Cancelled, ExitCodes.KindOf(new TaskCanceledException(), asked.Token));

        // A timeout inside a library (an HttpClient's, say) is not the user's Ctrl+C: it is a bug to report.
        Assert.Null(ExitCodes.KindOf(new OperationCanceledException(), CancellationToken.None));
        Assert.Null(ExitCodes.KindOf(new InvalidOperationException("a bug"), asked.Token));
        Assert.Equal(FailureKind.ModelMismatch, ExitCodes.KindOf(new Indexer.Stores.ModelMismatchException("kb", new(384, "a"), new(768, "b")), CancellationToken.None));
    }
}
