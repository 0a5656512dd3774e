using System.Text.Json;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>Reads a whole <c>text/event-stream</c> body into its events, in order.</summary>
internal static class ServerSentEvents
{
    public static List<(string Type, JsonElement Data)> Parse(string text) =>
        [.. text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(block => block.Split('\n'))
            .Select(lines => (
                lines.First(l => l.StartsWith("event: ", StringComparison.Ordinal))["event: ".Length..],
                JsonDocument.Parse(string.Join('\n', lines.Where(l => l.StartsWith("data: ", StringComparison.Ordinal)).Select(l => l["data: ".Length..]))).RootElement))];
}
