using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Architecture;

/// <summary>
/// The folders of src/Encoder are the model's parts, and each uses only the parts below it: the converter writes
/// graphs the runners read through a contract in Models, and neither side reaches into the other. The sources are
/// bound with the C# compiler, so every reference counts (a using, a qualified name, a type of the root or a parent
/// namespace that needs no using, an extension method), and nothing in a comment or a string does.
/// </summary>
public sealed class EncoderFolderDependencyTests
{
    private const string RootNamespace = "T5Gemma2.Rag.Encoder";

    /// <summary>The failure family: in the lowest project, but in the namespace every project shares, so any project's code sees it without a using.</summary>
    private const string FailuresFolder = "Failures";

    /// <summary>
    /// Each folder of src/Encoder (relative path, "" for the root) and the folders it may use besides itself. Every
    /// folder may use the root, which holds what all parts share (ModelFileException, StagedDirectory, ConfigFile,
    /// TensorData) and uses none of them, and Failures (the exception family). A new folder must be placed here.
    /// </summary>
    private static readonly Dictionary<string, string[]> s_allowed = new(StringComparer.Ordinal)
    {
        [""] = [],
        [FailuresFolder] = [],
        ["Tokenization"] = [],
        ["Onnx"] = [],                  // ONNX Runtime sessions
        ["Onnx/Graph"] = [],            // our ONNX writer
        ["Models"] = ["Tokenization"],  // model directories, configs, and the graph contract (file and tensor names)
        ["Checkpoints"] = ["Models"],
        ["Conversion"] = ["Models", "Checkpoints", "Onnx/Graph"],
        ["Embeddings"] = ["Models", "Tokenization", "Onnx", "Checkpoints"], // Checkpoints: the Dense modules' safetensors
        ["Generation"] = ["Models", "Tokenization", "Onnx", "Embeddings", "Vision", "Images"],
        ["Hub"] = [],
        ["Images"] = [],                // pixels: decoding and the processor's resize and normalisation
        ["Vision"] = ["Models", "Onnx", "Images", "Tokenization"], // the vision graph's runner and the image prompt
    };

    private static string EncoderSources => Path.Combine(TestAssets.RepositoryRoot, "src", "Encoder");

    [Fact]
    public void TheAllowedDirectionsHaveNoCycle()
    {
        var order = new List<string>();
        var remaining = s_allowed.ToDictionary(entry => entry.Key, entry => entry.Value.ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
        while (remaining.Count > 0)
        {
            var free = remaining.Where(entry => entry.Value.All(order.Contains)).Select(entry => entry.Key).ToList();
            Assert.True(free.Count > 0, $"the allowed directions form a cycle among [{string.Join(", ", remaining.Keys)}]");
            order.AddRange(free);
            free.ForEach(folder => remaining.Remove(folder));
        }

        Assert.All(s_allowed.Values.SelectMany(uses => uses), used => Assert.True(s_allowed.ContainsKey(used), $"'{used}' is allowed but is no folder of the table"));
    }

    [Fact]
    public void EveryFileDeclaresItsFoldersNamespace()
    {
        var wrong = SourceFiles()
            .Select(path => (Path: path, Declared: DeclaredNamespace(CSharpSyntaxTree.ParseText(File.ReadAllText(path)).GetCompilationUnitRoot())))
            .Where(file => file.Declared != NamespaceOf(FolderOf(file.Path)))
            .Select(file => $"{Relative(file.Path)}: namespace {file.Declared ?? "(none)"}; expected {NamespaceOf(FolderOf(file.Path))}")
            .ToList();

        Assert.Empty(wrong);
    }

    [Fact]
    public void EveryFolderUsesOnlyThePartsBelowIt()
    {
        var uses = FolderReferences();

        // The scan must see references to be worth anything: the embedding generator reads its model directory.
        Assert.Contains(uses, use => use.From == "Embeddings" && use.To == "Models");
        var unknown = uses.Select(use => use.From).Concat(uses.Select(use => use.To)).Distinct().Where(folder => !s_allowed.ContainsKey(folder)).ToList();
        Assert.True(unknown.Count == 0, $"src/Encoder folders missing from the table of allowed directions: {string.Join(", ", unknown)}");

        // One line per file and folder it must not use, with the lines and what they name.
        var forbidden = uses
            .Where(use => use.To is not ("" or FailuresFolder) && !s_allowed[use.From].Contains(use.To))
            .GroupBy(use => (File: use.Site.Split(':')[0], use.From, use.To))
            .Select(g => $"{g.Key.File} (lines {string.Join(", ", g.Select(use => use.Site.Split(':')[1]).Distinct())}) uses {g.Key.To}: {string.Join(", ", g.Select(use => use.Symbol).Distinct())}; {(g.Key.From == "" ? "the root" : g.Key.From)} may use only [{string.Join(", ", s_allowed[g.Key.From])}]")
            .ToList();

        Assert.True(forbidden.Count == 0, $"{forbidden.Count} files use parts against the direction of src/Encoder's parts:\n{string.Join("\n", forbidden)}");
    }

    /// <summary>Every reference from a file of one folder to a type, member or namespace of another, bound by the compiler.</summary>
    private static List<(string From, string To, string Site, string Symbol)> FolderReferences()
    {
        var trees = SourceFiles().Select(path => CSharpSyntaxTree.ParseText(File.ReadAllText(path), path: path)).ToList();
        // The project's implicit usings, which its generated GlobalUsings file supplies in a real build.
        trees.Add(CSharpSyntaxTree.ParseText("global using System; global using System.Collections.Generic; global using System.IO; global using System.Linq; global using System.Net.Http; global using System.Threading; global using System.Threading.Tasks;"));
        var compilation = CSharpCompilation.Create("EncoderScan", trees, References(), new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

        var uses = new List<(string, string, string, string)>();
        foreach (var tree in trees.Where(tree => tree.FilePath.Length > 0))
        {
            var model = compilation.GetSemanticModel(tree);
            string from = FolderOf(tree.FilePath);
            foreach (var node in tree.GetRoot().DescendantNodes())
            {
                var (symbol, target) = node switch
                {
                    UsingDirectiveSyntax directive => (model.GetSymbolInfo(directive.Name!).Symbol, (ISymbol?)null),
                    SimpleNameSyntax name when !IsNamespaceName(name) => Bound(model, name),
                    _ => (null, null),
                };

                foreach (string to in FoldersOf(symbol, target).Where(to => to != from).Distinct())
                {
                    var line = node.GetLocation().GetLineSpan().StartLinePosition.Line + 1;
                    uses.Add((from, to, $"{Relative(tree.FilePath)}:{line}", (target ?? symbol)!.ToDisplayString()));
                }
            }
        }

        return uses;
    }

    /// <summary>Part of a using or of the file's namespace declaration: namespaces count only through their using directive.</summary>
    private static bool IsNamespaceName(SimpleNameSyntax name) =>
        name.Ancestors().Any(a => a is UsingDirectiveSyntax || (a is BaseNamespaceDeclarationSyntax declaration && declaration.Name.Span.Contains(name.Span)));

    /// <summary>The symbol a name binds to (a candidate when binding is incomplete), and the type whose folder counts: the type itself, or a member's type.</summary>
    private static (ISymbol? Symbol, ISymbol? Target) Bound(SemanticModel model, SimpleNameSyntax name)
    {
        var info = model.GetSymbolInfo(name);
        var symbol = info.Symbol ?? info.CandidateSymbols.FirstOrDefault();
        ISymbol? target = symbol switch
        {
            INamedTypeSymbol type => type.OriginalDefinition,
            IMethodSymbol method => (method.ReducedFrom ?? method).ContainingType,
            IFieldSymbol or IPropertySymbol or IEventSymbol => symbol.ContainingType,
            _ => null, // locals, parameters, type parameters; namespaces count only through a using
        };
        return (target is null ? null : symbol, target);
    }

    /// <summary>The src/Encoder folders a bound symbol lives in: a type's by its declaring files, a namespace's by its name.</summary>
    private static IEnumerable<string> FoldersOf(ISymbol? symbol, ISymbol? target)
    {
        if (target is INamedTypeSymbol type)
        {
            return type.Locations.Where(l => l.IsInSource && l.SourceTree!.FilePath.Length > 0).Select(l => FolderOf(l.SourceTree!.FilePath));
        }

        if (symbol is INamespaceSymbol ns)
        {
            string name = ns.ToDisplayString();
            return name == RootNamespace ? [""]
                : name.StartsWith(RootNamespace + ".", StringComparison.Ordinal) ? [name[(RootNamespace.Length + 1)..].Replace('.', '/')]
                : [];
        }

        // A using static names a type.
        return symbol is INamedTypeSymbol named ? FoldersOf(named, named) : [];
    }

    private static IEnumerable<MetadataReference> References()
    {
        // The framework and every package the test output holds, so the sources bind as in the build; our own
        // assemblies stay out, because the sources are them.
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Concat(Directory.EnumerateFiles(AppContext.BaseDirectory, "*.dll"))
            .Where(path => !Path.GetFileName(path).StartsWith("T5Gemma2.Rag", StringComparison.Ordinal))
            .DistinctBy(Path.GetFileName, StringComparer.Ordinal);
        foreach (string path in paths)
        {
            if (IsManaged(path))
            {
                yield return MetadataReference.CreateFromFile(path);
            }
        }
    }

    private static bool IsManaged(string path)
    {
        try
        {
            AssemblyName.GetAssemblyName(path);
            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }

    private static List<string> SourceFiles()
    {
        var files = Directory.EnumerateFiles(EncoderSources, "*.cs", SearchOption.AllDirectories)
            .Where(path => !Relative(path).Split('/').Any(part => part is "obj" or "bin"))
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.True(files.Count > 50, $"{EncoderSources}: expected the sources of the Encoder project, found {files.Count} .cs files");
        return files;
    }

    private static string? DeclaredNamespace(CompilationUnitSyntax unit) =>
        unit.Members.OfType<BaseNamespaceDeclarationSyntax>().FirstOrDefault()?.Name.ToString();

    private static string NamespaceOf(string folder) => folder switch
    {
        "" => RootNamespace,
        FailuresFolder => "T5Gemma2.Rag",
        _ => RootNamespace + "." + folder.Replace('/', '.'),
    };

    private static string FolderOf(string path) => Path.GetDirectoryName(Relative(path))!.Replace(Path.DirectorySeparatorChar, '/');

    private static string Relative(string path) => Path.GetRelativePath(EncoderSources, path).Replace(Path.DirectorySeparatorChar, '/');
}
