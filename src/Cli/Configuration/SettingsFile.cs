using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.Logging;

namespace T5Gemma2.Rag.Cli.Configuration;

/// <summary>
/// A settings file, read once and checked against <see cref="SettingKey.All"/> before Microsoft.Extensions.Configuration's
/// JSON provider reads the same bytes. The check is not parsing twice for nothing: that provider turns every value into
/// a string, so <c>{ "store": 5 }</c> or <c>{ "threads": "many" }</c> would pass it unseen, and it reports bad JSON
/// without the file's name.
/// </summary>
internal sealed class SettingsFile
{
    private static readonly JsonDocumentOptions Options = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    private readonly byte[] _content;

    private SettingsFile(string path, byte[] content)
    {
        this.Path = path;
        this._content = content;
    }

    /// <summary>The file as it was given (relative to the working directory, or absolute).</summary>
    public string Path { get; }

    /// <summary>The JSON provider's source over the bytes that were checked (not the file again, which may have changed).</summary>
    public IConfigurationSource Source => new JsonStreamConfigurationSource { Stream = new MemoryStream(this._content, writable: false) };

    /// <summary>Reads and checks the file; a key it does not know is a warning, so a newer file still works with an older t5rag.</summary>
    /// <exception cref="InputFileException">The file is unreadable, not JSON, not an object, or a setting has the wrong JSON kind.</exception>
    public static SettingsFile Read(string path, ILogger logger)
    {
        if (Directory.Exists(path))
        {
            throw new InputFileException(path, "is a directory; expected a JSON settings file.");
        }

        byte[] content;
        try
        {
            content = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InputFileException(path, $"cannot be read as settings ({ex.Message}); expected a JSON settings file.", ex);
        }

        JsonDocument document;
        try
        {
            // From a stream, as the JSON provider reads it, so a UTF-8 byte order mark is skipped the same way.
            document = JsonDocument.Parse(new MemoryStream(content, writable: false), Options);
        }
        catch (JsonException ex)
        {
            throw new InputFileException(path, $"is not valid JSON at line {ex.LineNumber + 1} ({Reason(ex)}); expected a JSON object of settings.", ex);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InputFileException(path, $"is a JSON {document.RootElement.ValueKind}; expected a JSON object of settings.");
            }

            Check(document.RootElement, prefix: "", path, logger);
        }

        return new SettingsFile(path, content);
    }

    /// <summary>The error for a value of the right JSON kind that the setting does not take (a top of -1).</summary>
    public InputFileException Fault(SettingKey setting, string value) =>
        new(this.Path, $"\"{setting.Field}\" is {(setting.JsonKind == JsonValueKind.String ? $"\"{value}\"" : value)}; expected {setting.Expected}.");

    /// <summary>Checks one object's properties: known names, each once (in any case, as configuration keys are), of the right kind.</summary>
    private static void Check(JsonElement section, string prefix, string path, ILogger logger)
    {
        var names = SettingKey.All.Where(s => s.Key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Select(s => s.Key[prefix.Length..].Split(':')[0]).Distinct().ToList();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in section.EnumerateObject())
        {
            string? name = names.FirstOrDefault(n => n.Equals(property.Name, StringComparison.OrdinalIgnoreCase));
            if (name is null)
            {
                string field = (prefix + property.Name).Replace(':', '.');
                string? nearest = UnknownOptions.Nearest(property.Name, names);
                logger.UnknownSetting(path, field, nearest is null ? $"the settings here are {string.Join(", ", names)}" : $"did you mean \"{(prefix + nearest).Replace(':', '.')}\"?");
                continue;
            }

            string key = prefix + name;
            if (!seen.Add(name))
            {
                throw new InputFileException(path, $"\"{key.Replace(':', '.')}\" is set twice; expected each setting once.");
            }

            var value = property.Value;
            if (value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            if (SettingKey.Find(key) is { } setting)
            {
                if (value.ValueKind != setting.JsonKind)
                {
                    throw new InputFileException(path, $"\"{setting.Field}\" is {value.ValueKind}; expected {setting.Expected}.");
                }
            }
            else if (value.ValueKind != JsonValueKind.Object)
            {
                var inner = SettingKey.All.Where(s => s.Key.StartsWith(key + ":", StringComparison.Ordinal)).Select(s => $"\"{s.Key[(key.Length + 1)..]}\"");
                throw new InputFileException(path, $"\"{key}\" is {value.ValueKind}; expected an object of {string.Join(", ", inner)}.");
            }
            else
            {
                Check(value, key + ":", path, logger);
            }
        }
    }

    /// <summary>System.Text.Json's reason without its zero-based position, which the message gives as a line number.</summary>
    private static string Reason(JsonException ex) => ex.Message.Split(" LineNumber:", 2)[0].Split(" Path:", 2)[0].TrimEnd(' ', '.');
}
