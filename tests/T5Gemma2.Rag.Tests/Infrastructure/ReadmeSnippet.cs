using System.Reflection.PortableExecutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace T5Gemma2.Rag.Tests.Infrastructure;

/// <summary>
/// The first <c>```csharp</c> block of one README.md section (a heading of any level, up to the next heading of the
/// same or a higher level), and its compilation as a console program against what the test process itself runs on:
/// the framework, every package, and our assemblies. A README sample that no longer compiles fails a test.
/// </summary>
internal sealed class ReadmeSnippet
{
    // What a new console project (ImplicitUsings) has, so a snippet reads as a user's Program.cs does.
    private const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    private ReadmeSnippet(string heading, string code)
    {
        this.Heading = heading;
        this.Code = code;
    }

    /// <summary>The section's heading text, without the #s.</summary>
    public string Heading { get; }

    /// <summary>The code block's text.</summary>
    public string Code { get; }

    /// <summary>The snippet of the README section titled <paramref name="heading"/>.</summary>
    /// <exception cref="InvalidOperationException">No such section, or it has no csharp block.</exception>
    public static ReadmeSnippet Of(string heading, string? readmePath = null)
    {
        string[] lines = File.ReadAllLines(readmePath ?? Path.Combine(TestAssets.RepositoryRoot, "README.md"));
        int start = Array.FindIndex(lines, l => Level(l) > 0 && l.TrimStart('#').Trim() == heading);
        if (start < 0)
        {
            throw new InvalidOperationException($"README.md has no section \"{heading}\".");
        }

        int level = Level(lines[start]);
        var code = new List<string>();
        bool inside = false;
        for (int i = start + 1; i < lines.Length; i++)
        {
            if (!inside && Level(lines[i]) is > 0 and var next && next <= level)
            {
                break;
            }

            if (!inside && lines[i].Trim() == "```csharp")
            {
                inside = true;
            }
            else if (inside && lines[i].Trim() == "```")
            {
                return new ReadmeSnippet(heading, string.Join('\n', code));
            }
            else if (inside)
            {
                code.Add(lines[i]);
            }
        }

        throw new InvalidOperationException($"README.md's section \"{heading}\" has no complete ```csharp block.");
    }

    /// <summary>Compiles the snippet as a console program (top-level statements, nullable enabled); the errors, none when it compiles.</summary>
    public IReadOnlyList<Diagnostic> CompileErrors()
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        SyntaxTree[] trees = [CSharpSyntaxTree.ParseText(ImplicitUsings, parse, "GlobalUsings.cs"), CSharpSyntaxTree.ParseText(this.Code, parse, "Program.cs")];
        var compilation = CSharpCompilation.Create(
            "ReadmeSnippet",
            trees,
            References(),
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        return [.. compilation.GetDiagnostics(TestContext.Current.CancellationToken).Where(d => d.Severity == DiagnosticSeverity.Error)];
    }

    /// <summary>The framework and every assembly the test output holds, ours included, each file name once.</summary>
    private static IEnumerable<MetadataReference> References() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Concat(Directory.EnumerateFiles(AppContext.BaseDirectory, "*.dll"))
            .DistinctBy(Path.GetFileName, StringComparer.Ordinal)
            .Where(IsManaged)
            .Select(path => MetadataReference.CreateFromFile(path));

    private static bool IsManaged(string path)
    {
        try
        {
            using var reader = new PEReader(File.OpenRead(path));
            return reader.HasMetadata;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }

    private static int Level(string line)
    {
        int hashes = line.TakeWhile(c => c == '#').Count();
        return hashes > 0 && hashes < line.Length && line[hashes] == ' ' ? hashes : 0;
    }
}
