using Microsoft.Extensions.AI;

namespace T5Gemma2.Rag.Encoder.Embeddings;

/// <summary>Carries <see cref="EmbeddingInputKind"/> and a prompt name through Microsoft.Extensions.AI's <see cref="EmbeddingGenerationOptions"/>.</summary>
public static class EmbeddingGenerationOptionsExtensions
{
    /// <summary>The <see cref="EmbeddingGenerationOptions.AdditionalProperties"/> key that holds the input kind ("query" or "passage").</summary>
    public const string InputKindKey = "input_kind";

    /// <summary>The <see cref="EmbeddingGenerationOptions.AdditionalProperties"/> key that names a prompt of the model's config_sentence_transformers.json.</summary>
    public const string PromptNameKey = "prompt_name";

    /// <summary>A copy of <paramref name="options"/> (or new options) that embeds with the model's prompt called <paramref name="name"/> (e.g. "Clustering"), whatever the input kind.</summary>
    public static EmbeddingGenerationOptions WithPromptName(this EmbeddingGenerationOptions? options, string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var result = options?.Clone() ?? new EmbeddingGenerationOptions();
        result.AdditionalProperties ??= [];
        result.AdditionalProperties[PromptNameKey] = name;
        return result;
    }

    /// <summary>The prompt name the options carry, or null.</summary>
    public static string? GetPromptName(this EmbeddingGenerationOptions? options) =>
        options?.AdditionalProperties?.TryGetValue(PromptNameKey, out object? value) == true ? value as string : null;

    /// <summary>A copy of <paramref name="options"/> (or new options) that says the inputs are of <paramref name="kind"/>.</summary>
    public static EmbeddingGenerationOptions WithInputKind(this EmbeddingGenerationOptions? options, EmbeddingInputKind kind)
    {
        var result = options?.Clone() ?? new EmbeddingGenerationOptions();
        result.AdditionalProperties ??= [];
        result.AdditionalProperties[InputKindKey] = kind == EmbeddingInputKind.Query ? "query" : "passage";
        return result;
    }

    /// <summary>The input kind the options carry; <see cref="EmbeddingInputKind.Passage"/> when they say nothing.</summary>
    public static EmbeddingInputKind GetInputKind(this EmbeddingGenerationOptions? options) =>
        options?.AdditionalProperties?.TryGetValue(InputKindKey, out object? value) == true && value switch
        {
            EmbeddingInputKind kind => kind == EmbeddingInputKind.Query,
            string text => string.Equals(text, "query", StringComparison.OrdinalIgnoreCase),
            _ => false,
        }
            ? EmbeddingInputKind.Query
            : EmbeddingInputKind.Passage;
}
