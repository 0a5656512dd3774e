using System.Text.Json;

namespace T5Gemma2.Rag.Encoder.Tokenization;

/// <summary>The few fields of a tokenizer_config.json beside tokenizer.json that change encoding or name special tokens.</summary>
internal sealed record GemmaTokenizerConfig(bool? AddBosToken, bool? AddEosToken, string? BosToken, string? EosToken, string? PadToken)
{
    public static GemmaTokenizerConfig ReadBeside(string tokenizerJsonPath)
    {
        string path = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(tokenizerJsonPath))!, "tokenizer_config.json");
        if (!File.Exists(path))
        {
            return new GemmaTokenizerConfig(null, null, null, null, null);
        }

        var root = ConfigFile.Read(path, required: true, "a Hugging Face tokenizer_config.json")!.Value;
        return new GemmaTokenizerConfig(root.GetBoolean("add_bos_token"), root.GetBoolean("add_eos_token"), TokenName(root, "bos_token"), TokenName(root, "eos_token"), TokenName(root, "pad_token"));
    }

    // Either "<bos>" or {"content": "<bos>", ...}.
    private static string? TokenName(JsonElement root, string property) =>
        root.ValueKind != JsonValueKind.Object || !root.TryGetProperty(property, out var value) ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : value.ValueKind == JsonValueKind.Object && value.TryGetProperty("content", out var content) ? content.GetString()
        : null;
}
