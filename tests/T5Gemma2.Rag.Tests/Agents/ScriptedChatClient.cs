using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace T5Gemma2.Rag.Tests.Agents;

/// <summary>
/// A chat model that answers from a script (a function call, then text, …) and records every request: the messages
/// and options it was sent. The agent, the context provider, the functions and the store around it are real; this
/// stands in only for the model, whose words are not what the tests are about.
/// </summary>
internal sealed class ScriptedChatClient(params ChatMessage[] replies) : IChatClient
{
    private readonly Queue<ChatMessage> _replies = new(replies);

    /// <summary>Each request's messages, in order, copied when it was made.</summary>
    public List<IReadOnlyList<ChatMessage>> Requests { get; } = [];

    /// <summary>Each request's options.</summary>
    public List<ChatOptions?> Options { get; } = [];

    /// <summary>An assistant message that calls these functions, with ids call-1, call-2, ….</summary>
    public static ChatMessage Calls(params (string Name, Dictionary<string, object?> Arguments)[] calls) =>
        new(ChatRole.Assistant, [.. calls.Select((c, i) => (AIContent)new FunctionCallContent($"call-{i + 1}", c.Name, c.Arguments))]);

    /// <summary>An assistant message of text.</summary>
    public static ChatMessage Says(string text) => new(ChatRole.Assistant, text);

    /// <summary>The text of every text part of a request's messages, one message a line.</summary>
    public static string TextOf(IEnumerable<ChatMessage> messages) => string.Join('\n', messages.Select(m => m.Text));

    /// <summary>A function result of a request, read back as the model would get it (JSON) into <typeparamref name="T"/>.</summary>
    public static T ResultOf<T>(IEnumerable<ChatMessage> messages, string callId)
    {
        var result = messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().Single(r => r.CallId == callId);
        Assert.Null(result.Exception);
        var element = result.Result is JsonElement json ? json : JsonSerializer.SerializeToElement(result.Result, AIJsonUtilities.DefaultOptions);
        return element.Deserialize<T>(AIJsonUtilities.DefaultOptions)!;
    }

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        this.Requests.Add([.. messages]);
        this.Options.Add(options);
        var reply = this._replies.Count > 0 ? this._replies.Dequeue() : Says("(the script has ended)");
        return Task.FromResult(new ChatResponse(reply));
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var update in (await this.GetResponseAsync(messages, options, cancellationToken)).ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}
