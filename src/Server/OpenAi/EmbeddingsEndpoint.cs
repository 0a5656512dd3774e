using System.Buffers.Binary;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.AI;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Server.Collections;
using T5Gemma2.Rag.Server.Hosting;
using T5Gemma2.Rag.Server.Problems;

namespace T5Gemma2.Rag.Server.OpenAi;

/// <summary>
/// <c>POST /v1/embeddings</c>: the server's embedding model behind OpenAI's embeddings API — the same
/// <see cref="OnnxEmbeddingGenerator"/> call <c>t5rag embed</c> makes (passages by default, the Matryoshka cut of
/// <c>dimensions</c>), so the vectors are the ones <c>t5rag embed --json</c> prints.
/// </summary>
internal static class EmbeddingsEndpoint
{
    /// <summary>Texts one request may embed at most (OpenAI's own limit); the body's size is bounded by <see cref="KnowledgeBaseServerOptions.MaxRequestBytes"/> (413).</summary>
    public const int MaxInputs = 2048;

    public static void Map(IEndpointRouteBuilder v1)
    {
        v1.MapPost("/embeddings", EmbedAsync)
            .WithName("CreateEmbeddings")
            .WithSummary("Embeds texts with the server's embedding model (OpenAI-compatible)")
            .Accepts<EmbeddingsRequest>("application/json")
            .Produces<EmbeddingsResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
    }

    private static async Task<IResult> EmbedAsync(HttpContext context, KnowledgeBaseCollections collections, KnowledgeBaseServerOptions options)
    {
        var (body, problem) = await JsonBody.ReadAsync<EmbeddingsRequest>(context.Request, options.MaxRequestBytes, JsonBody.Options).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        if (string.IsNullOrWhiteSpace(body!.Model))
        {
            return ProblemResponses.BadRequest($"model is missing; expected '{collections.EmbeddingModelId}'.", "model");
        }

        if (!string.Equals(body.Model, collections.EmbeddingModelId, StringComparison.Ordinal))
        {
            return OpenAiErrorWriter.ModelNotFound(body.Model);
        }

        var (texts, wrong) = body.Texts(MaxInputs);
        if (texts is null)
        {
            return ProblemResponses.BadRequest(wrong!, "input");
        }

        if (body.EncodingFormat is not (null or "float" or "base64"))
        {
            return ProblemResponses.BadRequest($"encoding_format '{body.EncodingFormat}': expected float or base64.", "encoding_format");
        }

        bool base64 = body.EncodingFormat == "base64";
        var kind = body.InputType switch
        {
            null or "passage" or "document" => EmbeddingInputKind.Passage,
            "query" => EmbeddingInputKind.Query,
            _ => (EmbeddingInputKind?)null,
        };
        if (kind is null)
        {
            return ProblemResponses.BadRequest($"input_type '{body.InputType}': expected passage or query.", "input_type");
        }

        if (body.Dimensions is < 1)
        {
            return ProblemResponses.BadRequest($"dimensions {body.Dimensions}: expected 1 to {collections.Embedder.FullDimensions}.", "dimensions");
        }

        GeneratedEmbeddings<Embedding<float>> embeddings;
        try
        {
            embeddings = await collections.Embedder.GenerateAsync(texts, new EmbeddingGenerationOptions { Dimensions = body.Dimensions }.WithInputKind(kind.Value), context.RequestAborted).ConfigureAwait(false);
        }
        catch (EmbeddingDimensionsException ex)
        {
            return ProblemResponses.BadRequest(ex.Message, "dimensions");
        }

        long tokens = embeddings.Usage?.InputTokenCount ?? 0;
        return TypedResults.Json(
            new EmbeddingsResponse(
                "list",
                [.. embeddings.Select((e, i) => new EmbeddingItem("embedding", i, base64 ? Base64(e.Vector.Span) : e.Vector.ToArray()))],
                collections.EmbeddingModelId,
                new EmbeddingsUsage(tokens, tokens)),
            JsonBody.Options);
    }

    /// <summary>The vector as OpenAI's base64 encoding has it: float32 little-endian bytes.</summary>
    private static string Base64(ReadOnlySpan<float> vector)
    {
        var bytes = new byte[vector.Length * sizeof(float)];
        for (int i = 0; i < vector.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), vector[i]);
        }

        return Convert.ToBase64String(bytes);
    }
}

/// <summary>What <c>POST /v1/embeddings</c> returns, in OpenAI's shape.</summary>
public sealed record EmbeddingsResponse(string Object, IReadOnlyList<EmbeddingItem> Data, string Model, EmbeddingsUsage Usage);

/// <summary>One vector: a float array, or its base64 string when <c>encoding_format</c> is <c>base64</c>.</summary>
public sealed record EmbeddingItem(string Object, int Index, object Embedding);

/// <summary>The tokens the inputs came to under the model's tokenizer (truncated inputs count what was embedded).</summary>
public sealed record EmbeddingsUsage(long PromptTokens, long TotalTokens);
