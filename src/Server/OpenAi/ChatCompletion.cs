using System.Text.Json.Serialization;
using T5Gemma2.Rag.Server.Endpoints;

namespace T5Gemma2.Rag.Server.OpenAi;

/// <summary>
/// What <c>POST /v1/chat/completions</c> returns, in OpenAI's shape; <see cref="Citations"/> (every passage a
/// <c>kb:</c> answer was given, each saying whether the text cites it) and <see cref="TimedOut"/> are t5rag's own.
/// </summary>
public sealed record ChatCompletion(
    string Id,
    string Object,
    long Created,
    string Model,
    IReadOnlyList<ChatChoice> Choices,
    ChatUsage Usage,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<CitationResult>? Citations,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? TimedOut);

/// <summary>The one choice.</summary>
public sealed record ChatChoice(int Index, ChatReply Message, string FinishReason, object? Logprobs);

/// <summary>The assistant's message.</summary>
public sealed record ChatReply(string Role, string Content);

/// <summary>Tokens: the encoder input's (the packed context for <c>kb:</c>), the generated ones, and their sum.</summary>
public sealed record ChatUsage(int PromptTokens, int CompletionTokens, int TotalTokens);

/// <summary>One streamed chunk (<c>data: {…}</c>); the last one with choices carries the finish reason and the citations, and a last one without choices the usage when asked for.</summary>
public sealed record ChatCompletionChunk(
    string Id,
    string Object,
    long Created,
    string Model,
    IReadOnlyList<ChunkChoice> Choices,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ChatUsage? Usage)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<CitationResult>? Citations { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? TimedOut { get; init; }
}

/// <summary>A chunk's choice: the delta and, on the last, why the answer ended.</summary>
public sealed record ChunkChoice(int Index, ChunkDelta Delta, string? FinishReason, object? Logprobs);

/// <summary>The role (first chunk) or a piece of the content.</summary>
public sealed record ChunkDelta(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Role,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Content);
