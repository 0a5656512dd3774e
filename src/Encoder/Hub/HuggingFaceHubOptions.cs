namespace T5Gemma2.Rag.Encoder.Hub;

/// <summary>Where the Hub is and how to authenticate.</summary>
public sealed class HuggingFaceHubOptions
{
    private readonly Uri _endpoint = WithTrailingSlash(Environment.GetEnvironmentVariable("HF_ENDPOINT") is { Length: > 0 } endpoint ? endpoint : "https://huggingface.co");

    /// <summary>The Hub, or a mirror with its URL layout; HF_ENDPOINT overrides the default.</summary>
    /// <remarks>A trailing slash is added, so a mirror under a path (https://host/hf) keeps its path in relative URLs.</remarks>
    public Uri Endpoint
    {
        get => this._endpoint;
        init => this._endpoint = WithTrailingSlash(value?.ToString() ?? throw new ArgumentNullException(nameof(value)));
    }

    /// <summary>An access token for gated or private models; HF_TOKEN (or HUGGING_FACE_HUB_TOKEN) by default.</summary>
    public string? Token { get; init; } = Environment.GetEnvironmentVariable("HF_TOKEN") ?? Environment.GetEnvironmentVariable("HUGGING_FACE_HUB_TOKEN");

    /// <summary>How long to wait for the Hub to answer, and for the next bytes of a download, before giving up (not the whole download).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    private static Uri WithTrailingSlash(string endpoint) => new(endpoint.EndsWith('/') ? endpoint : endpoint + "/");
}
