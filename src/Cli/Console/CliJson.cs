using System.Text.Encodings.Web;
using System.Text.Json;

namespace T5Gemma2.Rag.Cli.Console;

/// <summary>JSON as t5rag prints it: compact, and readable text (no \u escapes for quotes or non-ASCII letters).</summary>
internal static class CliJson
{
    private static readonly JsonSerializerOptions s_options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, s_options);
}
