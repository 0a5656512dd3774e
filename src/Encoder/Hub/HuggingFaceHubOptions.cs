namespace T5Gemma2.Rag.Encoder.Hub;

/// <summary>Where the Hub is and how to authenticate.</summary>
public sealed class HuggingFaceHubOptions
{
    /// <summary>The Hub, or a mirror with its URL layout; HF_ENDPOINT overrides the default.</summary>
    public Uri Endpoint { get; init; } = new(Environment.GetEnvironmentVariable("HF_ENDPOINT") is { Length: > 0 } endpoint ? endpoint : "https://huggingface.co");

    /// <summary>An access token for gated or private models; HF_TOKEN (or HUGGING_FACE_HUB_TOKEN) by default.</summary>
    public string? Token { get; init; } = Environment.GetEnvironmentVariable("HF_TOKEN") ?? Environment.GetEnvironmentVariable("HUGGING_FACE_HUB_TOKEN");

    /// <summary>How long to wait for the Hub to answer a request before giving up (not the whole download).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
