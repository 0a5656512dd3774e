using System.Text.Json;

namespace T5Gemma2.Rag.Encoder;

/// <summary>Reads the small JSON files of a model directory, turning every failure into a one-line <see cref="ModelFileException"/>.</summary>
internal static class ConfigFile
{
    /// <summary>The parsed file, or null when it does not exist and <paramref name="required"/> is false.</summary>
    public static JsonElement? Read(string path, bool required, string expected)
    {
        if (!File.Exists(path))
        {
            return required ? throw new ModelFileException(path, $"not found; expected {expected}.") : null;
        }

        try
        {
            using var stream = File.OpenRead(path);
            using var document = JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            return document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new ModelFileException(path, $"not valid JSON (line {ex.LineNumber + 1}); expected {expected}.", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModelFileException(path, $"cannot be read ({ex.Message}).", ex);
        }
    }

    public static string? GetString(this JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static int? GetInt32(this JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int result) ? result : null;

    public static bool? GetBoolean(this JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : null;
}
