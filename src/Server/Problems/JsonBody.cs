using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace T5Gemma2.Rag.Server.Problems;

/// <summary>
/// Reads a JSON request body with the API's rules (snake_case, unknown fields refused,
/// numbers not as strings) and turns whatever is wrong into a 400 that names the field, or a 413 over the limit,
/// rather than the framework's generic "bad request".
/// </summary>
public static class JsonBody
{
    /// <summary>The API's JSON: snake_case names, nulls left out, enums as lower-case strings.</summary>
    public static JsonSerializerOptions Options { get; } = Create(strict: false);

    /// <summary>The request rules: as <see cref="Options"/>, and a field the type does not have is an error.</summary>
    public static JsonSerializerOptions StrictOptions { get; } = Create(strict: true);

    /// <summary>The body as <typeparamref name="T"/>, or the problem to answer with.</summary>
    public static async Task<(T? Value, IResult? Problem)> ReadAsync<T>(HttpRequest request, long maxBytes, JsonSerializerOptions? options = null)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(request);
        // application/json or a +json type only: a text/plain body that mentions json is what a browser sends cross-site without asking.
        if (!Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
            || !(type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || type.MediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase)))
        {
            return (null, ProblemResponses.UnsupportedMediaType($"Content-Type '{request.ContentType}': expected application/json."));
        }

        if (request.ContentLength > maxBytes)
        {
            return (null, ProblemResponses.TooLarge($"the request body is {request.ContentLength:N0} bytes; the limit is {maxBytes:N0}."));
        }

        try
        {
            using var limited = new LimitedReadStream(request.Body, maxBytes);
            var value = await JsonSerializer.DeserializeAsync<T>(limited, options ?? StrictOptions, request.HttpContext.RequestAborted).ConfigureAwait(false);
            return value is null ? (null, ProblemResponses.BadRequest("the request body is null; expected a JSON object.")) : (value, null);
        }
        catch (LimitedReadStream.LimitExceededException)
        {
            return (null, ProblemResponses.TooLarge($"the request body is over the limit of {maxBytes:N0} bytes."));
        }
        catch (JsonException ex)
        {
            string field = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "$" : ex.Path;
            string reason = ex.Message.Split(" Path:", 2)[0].Split(". ", 2)[0].TrimEnd('.');
            return (null, ProblemResponses.BadRequest($"the JSON body is not valid at {field}: {reason}.", field));
        }
    }

    private static JsonSerializerOptions Create(bool strict)
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            NumberHandling = JsonNumberHandling.Strict,
            UnmappedMemberHandling = strict ? JsonUnmappedMemberHandling.Disallow : JsonUnmappedMemberHandling.Skip,
            MaxDepth = 32,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
