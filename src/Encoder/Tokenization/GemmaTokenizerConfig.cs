using System.Text.Json;

namespace T5Gemma2.Rag.Encoder.Tokenization;

/// <summary>The few fields of a tokenizer_config.json beside tokenizer.json that change encoding or name special tokens.</summary>
internal sealed record GemmaTokenizerConfig(bool? AddBosToken, string? BosToken, string? EosToken, string? PadToken)
{
    public static GemmaTokenizerConfig ReadBeside(string tokenizerJsonPath)
    {
        string path = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(tokenizerJsonPath))!, "tokenizer_config.json");
        if (!File.Exists(path))
        {
            return new GemmaTokenizerConfig(null, null, null, null);
        }

        try
        {
            using var stream = File.OpenRead(path);
            using var document = JsonDocument.Parse(stream);
            var root = document.RootElement;
            bool? addBos = root.TryGetProperty("add_bos_token", out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : null;
            return new GemmaTokenizerConfig(addBos, TokenName(root, "bos_token"), TokenName(root, "eos_token"), TokenName(root, "pad_token"));
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new ModelFileException(path, $"cannot be read as JSON ({ex.Message}); expected a Hugging Face tokenizer_config.json.", ex);
        }
    }

    // Either "<bos>" or {"content": "<bos>", ...}.
    private static string? TokenName(JsonElement root, string property) =>
        !root.TryGetProperty(property, out var value) ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : value.ValueKind == JsonValueKind.Object && value.TryGetProperty("content", out var content) ? content.GetString()
        : null;
}
