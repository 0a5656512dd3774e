using System.Text.Json;

namespace T5Gemma2.Rag.Server.OpenAi;

/// <summary>The body of <c>POST /v1/embeddings</c>, as OpenAI's clients send it (fields they send that t5rag has no use for, such as <c>user</c>, are ignored).</summary>
public sealed class EmbeddingsRequest
{
    /// <summary>A text, or an array of texts (token-id arrays are refused: the server tokenizes).</summary>
    public JsonElement Input { get; init; }

    /// <summary>The embedding model's id, as <c>GET /v1/models</c> lists it.</summary>
    public string? Model { get; init; }

    /// <summary>A Matryoshka cut: the leading components, renormalised, as <c>t5rag embed --dimensions</c>.</summary>
    public int? Dimensions { get; init; }

    /// <summary><c>float</c> (the default) or <c>base64</c> (little-endian float32 bytes).</summary>
    public string? EncodingFormat { get; init; }

    /// <summary>A t5rag extension: <c>passage</c> (the default, as <c>t5rag embed</c>) or <c>query</c> (the model's query prompt, as <c>--query</c>).</summary>
    public string? InputType { get; init; }

    /// <summary>The texts, or the problem with <see cref="Input"/>.</summary>
    internal (IReadOnlyList<string>? Texts, string? Problem) Texts(int maxInputs)
    {
        switch (this.Input.ValueKind)
        {
            case JsonValueKind.String:
                return ([this.Input.GetString()!], null);
            case JsonValueKind.Array:
                int count = this.Input.GetArrayLength();
                if (count == 0)
                {
                    return (null, "input is an empty array; expected a text or an array of texts.");
                }

                if (count > maxInputs)
                {
                    return (null, $"input has {count:N0} texts; at most {maxInputs:N0} may be embedded in one request.");
                }

                var texts = new List<string>(count);
                foreach (var item in this.Input.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String)
                    {
                        return (null, item.ValueKind is JsonValueKind.Number or JsonValueKind.Array
                            ? $"input[{texts.Count}] is a token id or an array of them; this server takes texts only (it tokenizes with the model's own tokenizer)."
                            : $"input[{texts.Count}] is {item.ValueKind.ToString().ToLowerInvariant()}; expected a string.");
                    }

                    texts.Add(item.GetString()!);
                }

                return (texts, null);
            case JsonValueKind.Undefined or JsonValueKind.Null:
                return (null, "input is missing; expected a text or an array of texts.");
            default:
                return (null, $"input is {this.Input.ValueKind.ToString().ToLowerInvariant()}; expected a text or an array of texts.");
        }
    }
}
