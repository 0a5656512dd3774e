using System.Reflection;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace T5Gemma2.Rag.Server.Web;

/// <summary>
/// The knowledge-base web page at <c>/</c>: plain HTML, CSS and one ES module, embedded in this assembly so that
/// <c>t5rag serve</c>, the server's own Program and a test host serve the same bytes with no files beside the binary.
/// The page holds no data and is served without a key; everything it shows comes from <c>/api</c> with the key the
/// user signs in with.
/// </summary>
internal static class WebPageEndpoints
{
    /// <summary>
    /// This origin only, no inline script or style, no form that submits anywhere (a key typed before the script ran
    /// never lands in a URL), no framing: the page handles API keys and shows untrusted document text.
    /// </summary>
    internal const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly (string Path, string Resource, string ContentType)[] s_files =
    [
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/app.js", "app.js", "text/javascript; charset=utf-8"),
        ("/app.css", "app.css", "text/css; charset=utf-8"),
        ("/favicon.svg", "favicon.svg", "image/svg+xml"),
    ];

    public static void Map(IEndpointRouteBuilder app)
    {
        foreach (var (path, resource, contentType) in s_files)
        {
            byte[] content = Load(resource);

            // A strong tag of the content: the browser revalidates (no-cache) and gets a 304 until the server changes.
            var tag = new EntityTagHeaderValue($"\"{Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 8))}\"");
            app.MapGet(path, (HttpContext context) =>
            {
                var headers = context.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers.CacheControl = "no-cache";
                headers["Referrer-Policy"] = "no-referrer";
                headers["Cross-Origin-Opener-Policy"] = "same-origin";
                return TypedResults.Bytes(content, contentType, entityTag: tag);
            }).AllowAnonymous().ExcludeFromDescription();
        }
    }

    private static byte[] Load(string name)
    {
        using var stream = typeof(WebPageEndpoints).Assembly.GetManifestResourceStream($"web/{name}")
            ?? throw new InvalidOperationException($"the web page's '{name}' is not embedded in {typeof(WebPageEndpoints).Assembly.GetName().Name}.");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }
}
