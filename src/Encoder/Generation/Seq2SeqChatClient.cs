using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace T5Gemma2.Rag.Encoder.Generation;

/// <summary>
/// A <see cref="Seq2SeqGenerator"/> as a Microsoft.Extensions.AI <see cref="IChatClient"/>, so Semantic Kernel and
/// other .NET code can use T5Gemma 2 as a chat model. The released checkpoints are pretrained only and have no chat
/// template: the messages' texts, joined by newlines, are the encoder input, and the answer is the decoder's output.
/// </summary>
/// <remarks>
/// ChatOptions map to <see cref="GenerationOptions"/>: MaxOutputTokens → MaxNewTokens, Temperature (&gt; 0 samples),
/// TopP, TopK, Seed, StopSequences; AdditionalProperties "num_beams", "repetition_penalty" and "length_penalty".
/// </remarks>
public sealed class Seq2SeqChatClient : IChatClient
{
    private readonly Seq2SeqGenerator _generator;
    private readonly ChatClientMetadata _metadata;

    public Seq2SeqChatClient(Seq2SeqGenerator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        this._generator = generator;
        this._metadata = new ChatClientMetadata("onnxruntime", new Uri(generator.Model.Path + Path.DirectorySeparatorChar), generator.Model.ModelId);
    }

    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var result = await this._generator.GenerateAsync(Prompt(messages), Map(options), cancellationToken).ConfigureAwait(false);
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, result.Text))
        {
            ModelId = this._generator.Model.ModelId,
            FinishReason = result.FinishReason == FinishReason.Length ? ChatFinishReason.Length : ChatFinishReason.Stop,
            Usage = new UsageDetails { InputTokenCount = result.InputTokenCount, OutputTokenCount = result.TokenIds.Count, TotalTokenCount = result.InputTokenCount + result.TokenIds.Count },
        };
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string responseId = Guid.NewGuid().ToString("N");
        await foreach (string delta in this._generator.GenerateStreamingAsync(Prompt(messages), Map(options), cancellationToken).ConfigureAwait(false))
        {
            yield return new ChatResponseUpdate(ChatRole.Assistant, delta) { ResponseId = responseId, ModelId = this._generator.Model.ModelId };
        }
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(ChatClientMetadata) ? this._metadata
            : serviceType.IsInstanceOfType(this) ? this
            : serviceType.IsInstanceOfType(this._generator) ? this._generator
            : null;
    }

    /// <summary>The generator is the caller's: it is not disposed here.</summary>
    public void Dispose()
    {
    }

    private static string Prompt(IEnumerable<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        return string.Join("\n", messages.Select(m => m.Text).Where(t => !string.IsNullOrEmpty(t)));
    }

    private static GenerationOptions Map(ChatOptions? options)
    {
        if (options is null)
        {
            return GenerationOptions.Default;
        }

        object? Extra(string key) => options.AdditionalProperties?.TryGetValue(key, out object? value) == true ? value : null;
        float temperature = options.Temperature ?? 0f;
        return new GenerationOptions
        {
            MaxNewTokens = options.MaxOutputTokens ?? GenerationOptions.Default.MaxNewTokens,
            Sample = temperature > 0,
            Temperature = temperature > 0 ? temperature : 1f,
            TopP = options.TopP ?? 1f,
            TopK = options.TopK ?? 0,
            Seed = options.Seed is long seed ? (int)seed : null,
            StopSequences = options.StopSequences is { } stops ? [.. stops] : [],
            NumBeams = Extra("num_beams") is { } beams ? Convert.ToInt32(beams, System.Globalization.CultureInfo.InvariantCulture) : 1,
            RepetitionPenalty = Extra("repetition_penalty") is { } penalty ? Convert.ToSingle(penalty, System.Globalization.CultureInfo.InvariantCulture) : 1f,
            LengthPenalty = Extra("length_penalty") is { } length ? Convert.ToSingle(length, System.Globalization.CultureInfo.InvariantCulture) : 1f,
        };
    }
}
