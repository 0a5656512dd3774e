namespace T5Gemma2.Rag.Tests.Infrastructure;

/// <summary>Copies of the MiniLM model directory that tests may change; the 90 MB graph is linked, not copied.</summary>
internal static class ModelDirectoryCopy
{
    /// <summary>Copies the files directly inside <paramref name="source"/> (not its subdirectories) into a new <paramref name="target"/>.</summary>
    public static string TopLevelFiles(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (string file in Directory.EnumerateFiles(source))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }

        return target;
    }

    /// <summary>Copies every file below <paramref name="source"/> into <paramref name="target"/>, keeping the folders (a model's module folders).</summary>
    public static string AllFiles(string source, string target)
    {
        foreach (string file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            string destination = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }

        return target;
    }

    public static string OfMiniLm(TempDirectory temp, string name = "model")
    {
        string source = TestAssets.MiniLmDirectory;
        string target = temp.Combine(name);
        foreach (string file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(source, file);
            string destination = Path.Combine(target, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            if (file.EndsWith(".onnx", StringComparison.Ordinal))
            {
                File.CreateSymbolicLink(destination, file);
            }
            else
            {
                File.Copy(file, destination);
            }
        }

        return target;
    }
}
