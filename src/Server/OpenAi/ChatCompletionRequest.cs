using System.Text.Json;
using Microsoft.Extensions.AI;
using T5Gemma2.Rag.Answering;
using T5Gemma2.Rag.Server.Endpoints;

namespace T5Gemma2.Rag.Server.OpenAi;

/// <summary>
/// The body of <c>POST /v1/chat/completions</c>, as OpenAI's clients send it. Fields t5rag has no use for
/// (<c>user</c>, <c>logprobs</c>, <c>tools</c>, <c>response_format</c>, …) are ignored; <c>top</c>, <c>filters</c> and
/// <c>budget</c> are t5rag's own, for <c>kb:</c> models, as ask takes them.
/// </summary>
public sealed class ChatCompletionRequest
{
    /// <summary>The longest answer a request may ask for (as ask's <c>max_new_tokens</c>).</summary>
    internal const int MaxTokensLimit = 8192;

    /// <summary>How many stop sequences OpenAI takes at most.</summary>
    internal const int MaxStops = 4;

    /// <summary><c>kb:&lt;collection&gt;</c>, or the generator's id.</summary>
    public string? Model { get; init; }

    public IReadOnlyList<ChatMessageBody>? Messages { get; init; }

    public bool? Stream { get; init; }

    public ChatStreamOptions? StreamOptions { get; init; }

    /// <summary>The answer's tokens at most (older name of <see cref="MaxCompletionTokens"/>).</summary>
    public int? MaxTokens { get; init; }

    public int? MaxCompletionTokens { get; init; }

    /// <summary>0 or absent: greedy (deterministic); above 0 samples at that temperature.</summary>
    public float? Temperature { get; init; }

    public float? TopP { get; init; }

    public long? Seed { get; init; }

    /// <summary>A stop sequence, or an array of up to four.</summary>
    public JsonElement Stop { get; init; }

    /// <summary>Choices to generate; only 1.</summary>
    public int? N { get; init; }

    /// <summary>For <c>kb:</c> models: passages to give the model (ask's <c>top</c>).</summary>
    public int? Top { get; init; }

    /// <summary>For <c>kb:</c> models: which passages may be retrieved (ask's <c>filters</c>).</summary>
    public RequestFilters? Filters { get; init; }

    /// <summary>For <c>kb:</c> models: encoder tokens the packed context may take (ask's <c>budget</c>).</summary>
    public int? Budget { get; init; }

    /// <summary>The sampling settings as chat options (the generator's own mapping turns them into generation options), or the problem and its field.</summary>
    internal (ChatOptions? Options, string? Problem, string? Field) ToChatOptions()
    {
        if (this.N is { } n && n != 1)
        {
            return (null, $"n {n}: this server generates one choice per request.", "n");
        }

        string field = this.MaxCompletionTokens is not null ? "max_completion_tokens" : "max_tokens";
        int maxTokens = this.MaxCompletionTokens ?? this.MaxTokens ?? AskOptions.Default.Generation.MaxNewTokens;
        if (maxTokens < 1 || maxTokens > MaxTokensLimit)
        {
            return (null, $"{field} {maxTokens}: expected 1 to {MaxTokensLimit}.", field);
        }

        if (this.Temperature is { } temperature && !(temperature >= 0 && temperature <= 2))
        {
            return (null, $"temperature {temperature}: expected 0 to 2.", "temperature");
        }

        if (this.TopP is { } topP && !(topP > 0 && topP <= 1))
        {
            return (null, $"top_p {topP}: expected more than 0, at most 1.", "top_p");
        }

        var (stops, wrongStop) = this.StopSequences();
        if (wrongStop is not null)
        {
            return (null, wrongStop, "stop");
        }

        return (new ChatOptions { MaxOutputTokens = maxTokens, Temperature = this.Temperature, TopP = this.TopP, Seed = this.Seed, StopSequences = stops }, null, null);
    }

    private (IList<string>? Stops, string? Problem) StopSequences()
    {
        switch (this.Stop.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                return (null, null);
            case JsonValueKind.String:
                return string.IsNullOrEmpty(this.Stop.GetString()) ? (null, "stop is empty; expected a stop sequence.") : ([this.Stop.GetString()!], null);
            case JsonValueKind.Array when this.Stop.GetArrayLength() <= MaxStops && this.Stop.EnumerateArray().All(s => s.ValueKind == JsonValueKind.String && s.GetString()!.Length > 0):
                return ([.. this.Stop.EnumerateArray().Select(s => s.GetString()!)], null);
            default:
                return (null, $"stop: expected a string or an array of up to {MaxStops} non-empty strings.");
        }
    }
}

/// <summary>One message of the conversation: its role and its text (a string, or an array of text parts).</summary>
public sealed class ChatMessageBody
{
    public string? Role { get; init; }

    /// <summary>A string, an array of <c>{"type": "text", "text": …}</c> parts, or null (an assistant turn with tool calls).</summary>
    public JsonElement Content { get; init; }

    /// <summary>The message's text, or the problem with its content (<paramref name="index"/> names it).</summary>
    internal (string? Text, string? Problem, string? Field) Text(int index)
    {
        switch (this.Content.ValueKind)
        {
            case JsonValueKind.String:
                return (this.Content.GetString(), null, null);
            case JsonValueKind.Undefined or JsonValueKind.Null:
                return (string.Empty, null, null);
            case JsonValueKind.Array:
                var text = new System.Text.StringBuilder();
                int part = 0;
                foreach (var item in this.Content.EnumerateArray())
                {
                    string field = $"messages[{index}].content[{part++}]";
                    if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
                    {
                        return (null, $"{field}: expected a part with a type.", field);
                    }

                    if (type.GetString() != "text" || !item.TryGetProperty("text", out var partText) || partText.ValueKind != JsonValueKind.String)
                    {
                        return (null, $"{field}: a '{type.GetString()}' part; this server takes text parts ({{\"type\": \"text\", \"text\": …}}) only.", field);
                    }

                    text.Append(partText.GetString());
                }

                return (text.ToString(), null, null);
            default:
                return (null, $"messages[{index}].content is {this.Content.ValueKind.ToString().ToLowerInvariant()}; expected a string or an array of text parts.", $"messages[{index}].content");
        }
    }
}

/// <summary>OpenAI's <c>stream_options</c>.</summary>
public sealed class ChatStreamOptions
{
    /// <summary>Send a last chunk with the usage (and no choices) before <c>[DONE]</c>.</summary>
    public bool? IncludeUsage { get; init; }
}
