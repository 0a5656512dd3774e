using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace T5Gemma2.Rag.Server.OpenAi;

/// <summary>
/// Every problem answered under <c>/v1</c> — the endpoints' own, authentication's 401, the rate limiter's 429, the
/// exception handler's — in OpenAI's error shape, <c>{"error": {"message", "type", "param", "code"}}</c>, which the
/// official clients parse into their exceptions. The status stays the problem's; <c>param</c> is the problem's
/// <c>field</c>; <c>type</c> and <c>code</c> follow the status unless the problem names a code.
/// </summary>
/// <remarks>Registered ahead of ASP.NET Core's own writer, which writes RFC 9457 problem details everywhere else.</remarks>
internal sealed class OpenAiErrorWriter : IProblemDetailsWriter
{
    /// <summary>The path the OpenAI-compatible endpoints live under.</summary>
    public const string PathPrefix = "/v1";

    /// <summary>The problem extension that carries an OpenAI error code (<c>model_not_found</c>).</summary>
    public const string CodeExtension = "code";

    public bool CanWrite(ProblemDetailsContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.HttpContext.Request.Path.StartsWithSegments(PathPrefix, StringComparison.OrdinalIgnoreCase);
    }

    public async ValueTask WriteAsync(ProblemDetailsContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var problem = context.ProblemDetails;
        var response = context.HttpContext.Response;
        int status = problem.Status ?? response.StatusCode;
        var (type, defaultCode) = Classify(status);
        response.ContentType = "application/json; charset=utf-8";
        var json = new Utf8JsonWriter(response.Body);
        await using (json.ConfigureAwait(false))
        {
            json.WriteStartObject();
            json.WriteStartObject("error");
            json.WriteString("message", problem.Detail ?? problem.Title ?? $"HTTP {status}");
            json.WriteString("type", type);
            WriteStringOrNull(json, "param", problem.Extensions.TryGetValue("field", out object? field) ? field as string : null);
            WriteStringOrNull(json, "code", problem.Extensions.TryGetValue(CodeExtension, out object? code) && code is string named ? named : defaultCode);
            json.WriteEndObject();
            json.WriteEndObject();
            await json.FlushAsync(context.HttpContext.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>OpenAI's 404 for a model that does not exist or that the key may not use: one answer for both, so names do not leak.</summary>
    public static IResult ModelNotFound(string model) =>
        TypedResults.Problem(new ProblemDetails
        {
            Status = StatusCodes.Status404NotFound,
            Title = "Not found",
            Detail = $"The model '{(model.Length > 80 ? model[..80] + "…" : model)}' does not exist or this API key may not use it; GET /v1/models lists the models it may use.",
            Extensions = { ["field"] = "model", [CodeExtension] = "model_not_found" },
        });

    /// <summary>The error type and default code OpenAI's clients expect for a status.</summary>
    private static (string Type, string? Code) Classify(int status) => status switch
    {
        StatusCodes.Status401Unauthorized => ("invalid_request_error", "invalid_api_key"),
        StatusCodes.Status403Forbidden => ("permission_error", "permission_denied"),
        StatusCodes.Status404NotFound => ("invalid_request_error", "not_found"),
        StatusCodes.Status413PayloadTooLarge => ("invalid_request_error", "request_too_large"),
        StatusCodes.Status415UnsupportedMediaType => ("invalid_request_error", "unsupported_media_type"),
        StatusCodes.Status429TooManyRequests => ("rate_limit_error", "rate_limit_exceeded"),
        StatusCodes.Status501NotImplemented => ("invalid_request_error", "not_implemented"),
        StatusCodes.Status503ServiceUnavailable => ("server_error", "service_unavailable"),
        >= 500 => ("server_error", null),
        _ => ("invalid_request_error", null),
    };

    private static void WriteStringOrNull(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }
}
