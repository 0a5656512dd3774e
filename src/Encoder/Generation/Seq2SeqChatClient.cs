using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace T5Gemma2.Rag.Encoder.Generation;

/// <summary>
/// A <see cref="Seq2SeqGenerator"/> as a Microsoft.Extensions.AI <see cref="IChatClient"/>, so Semantic Kernel and
/// other .NET code can use T5Gemma 2 as a chat model. The released checkpoints are pretrained only and have no chat
/// template: the messages' texts, joined by newlines, are the encoder input, and the answer is the decoder's output.
/// Image parts (<see cref="DataContent"/> with an image/* media type, bytes or a data: URI) go into the encoder input
/// as images at their positions among the texts, for a model converted with its vision tower.
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
        var result = (await this._generator.GenerateAsync([this.Prompt(messages)], ToGenerationOptions(options), cancellationToken).ConfigureAwait(false))[0];
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, result.Text))
        {
            ModelId = this._generator.Model.ModelId,
            FinishReason = FinishReasonOf(result),
            Usage = UsageOf(result),
        };
    }

    /// <inheritdoc />
    /// <remarks>The last update carries no text: the finish reason and the usage (a <see cref="UsageContent"/>), as Microsoft.Extensions.AI's streaming clients report them.</remarks>
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string responseId = Guid.NewGuid().ToString("N");
        await foreach (var update in this._generator.GenerateUpdatesAsync(this.Prompt(messages), ToGenerationOptions(options), cancellationToken).ConfigureAwait(false))
        {
            yield return update.Result is { } result
                ? new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(UsageOf(result))]) { ResponseId = responseId, ModelId = this._generator.Model.ModelId, FinishReason = FinishReasonOf(result) }
                : new ChatResponseUpdate(ChatRole.Assistant, update.Delta) { ResponseId = responseId, ModelId = this._generator.Model.ModelId };
        }
    }

    /// <summary>
    /// The generation options chat options ask for (see the class remarks): what a host that drives the generator itself
    /// (a packed context, not messages) uses so that its callers' settings mean what they mean here.
    /// </summary>
    public static GenerationOptions ToGenerationOptions(ChatOptions? options)
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
            Seed = options.Seed is long seed ? unchecked((int)seed) : null,
            StopSequences = options.StopSequences is { } stops ? [.. stops] : [],
            NumBeams = Extra("num_beams") is { } beams ? Convert.ToInt32(beams, System.Globalization.CultureInfo.InvariantCulture) : 1,
            RepetitionPenalty = Extra("repetition_penalty") is { } penalty ? Convert.ToSingle(penalty, System.Globalization.CultureInfo.InvariantCulture) : 1f,
            LengthPenalty = Extra("length_penalty") is { } length ? Convert.ToSingle(length, System.Globalization.CultureInfo.InvariantCulture) : 1f,
        };
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

    /// <summary>
    /// The messages' texts joined by newlines, with each image part's block where it stands. Without images the ids
    /// are the text's alone, so a text-only model reads a text chat as before.
    /// </summary>
    /// <exception cref="ArgumentException">A data part is not an image.</exception>
    /// <exception cref="Models.ImagesNotSupportedException">An image part was sent to a text-only model.</exception>
    private EncoderInput Prompt(IEnumerable<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var parts = new List<(string? Text, DataContent? Image)>();
        int index = 0;
        foreach (var message in messages)
        {
            index++;
            var contents = message.Contents.Where(c => c is TextContent { Text.Length: > 0 } or DataContent).ToList();
            if (contents.Count == 0)
            {
                continue;
            }

            if (parts.Count > 0)
            {
                parts.Add(("\n", null));
            }

            foreach (var content in contents)
            {
                if (content is DataContent data && !data.HasTopLevelMediaType("image"))
                {
                    throw new ArgumentException($"message {index} has a {data.MediaType} data part; expected text or an image (image/*).", nameof(messages));
                }

                parts.Add(content is DataContent image ? (null, image) : (((TextContent)content).Text, null));
            }
        }

        if (parts.All(p => p.Image is null))
        {
            return EncoderInput.FromIds(this._generator.EncodeInput(string.Concat(parts.Select(p => p.Text))));
        }

        var prompt = this._generator.CreateImagePrompt();
        var images = new List<Images.PixelValues>();
        foreach (var (text, image) in parts)
        {
            if (image is null)
            {
                prompt.AddText(text!);
                continue;
            }

            images.Add(this._generator.DecodeImage(image.Data.Span, image.Name ?? $"chat image {images.Count + 1} ({image.MediaType})"));
            prompt.AddImage();
        }

        return EncoderInput.WithImages(prompt.Build(), images);
    }

    private static ChatFinishReason FinishReasonOf(GenerationResult result) => result.FinishReason == FinishReason.Length ? ChatFinishReason.Length : ChatFinishReason.Stop;

    private static UsageDetails UsageOf(GenerationResult result) =>
        new() { InputTokenCount = result.InputTokenCount, OutputTokenCount = result.TokenIds.Count, TotalTokenCount = result.InputTokenCount + result.TokenIds.Count };
}
