namespace T5Gemma2.Rag.Server.Jobs;

/// <summary>
/// What an uploaded file's name becomes as a document's name (its id and source). The name is the sender's and
/// untrusted: it never names a file on disk (staged files get generated names), and it is made plain here —
/// '\' becomes '/', empty, '.' and '..' segments and leading '/' go — so "../../etc/passwd" is the document
/// "etc/passwd" and nothing more; control characters and overlong names are refused.
/// </summary>
public static class UploadNames
{
    /// <summary>The longest document name an upload may give, in UTF-16 units.</summary>
    public const int MaxLength = 512;

    /// <summary>The document name for <paramref name="fileName"/>, or why there is none.</summary>
    public static (string? Name, string? Problem) Normalize(string? fileName)
    {
        if (string.IsNullOrWhiteSpace(fileName))
        {
            return (null, "has no file name; expected filename=\"…\" in its Content-Disposition");
        }

        if (fileName.Any(char.IsControl))
        {
            return (null, $"file name \"{Printable(fileName)}\" holds control characters; expected a plain file name");
        }

        string name = string.Join('/', fileName.Replace('\\', '/').Split('/').Select(s => s.Trim()).Where(s => s.Length > 0 && s != "." && s != ".."));
        if (name.Length == 0)
        {
            return (null, $"file name \"{Printable(fileName)}\" names no file (only separators and dots); expected a file name");
        }

        if (name.Length > MaxLength)
        {
            return (null, $"file name is {name.Length:N0} characters long; the limit is {MaxLength}");
        }

        return (name, null);
    }

    /// <summary>The name as a message may quote it: control characters escaped, at most 80 characters.</summary>
    public static string Printable(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string shown = string.Concat(name.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
        return shown.Length <= 80 ? shown : shown[..80] + "…";
    }
}
