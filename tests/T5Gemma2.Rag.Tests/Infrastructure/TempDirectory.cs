namespace T5Gemma2.Rag.Tests.Infrastructure;

/// <summary>A fresh directory under the system temp folder, deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        this.Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "t5rag-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(this.Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([this.Path, .. parts]);

    public string Write(string relativePath, string content)
    {
        string full = this.Combine(relativePath);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
        return full;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(this.Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a file still mapped by a session on some platforms.
        }
    }
}
