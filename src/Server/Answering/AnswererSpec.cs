using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using OllamaSharp;
using OpenAI;
using T5Gemma2.Rag.Answering;
using T5Gemma2.Rag.Encoder.Generation;
using T5Gemma2.Rag.Packing;
using T5Gemma2.Rag.Retrieval;

namespace T5Gemma2.Rag.Server.Answering;

/// <summary>
/// Which chat model answers, as <c>--answerer</c> and <c>T5Rag:Answerer</c> write it: <c>t5gemma2</c> (the
/// generator), <c>openai:&lt;base url&gt;?model=&lt;id&gt;</c> or <c>ollama:&lt;url&gt;?model=&lt;id&gt;</c>, each with an
/// optional <c>&amp;context=&lt;tokens&gt;</c>. Retrieval, packing and citations stay ours whichever model answers.
/// </summary>
/// <remarks>
/// The released T5Gemma 2 checkpoints are pretrained, not instruction-tuned; another chat model is how a team gets
/// fluent answers today. A chat model receives the packed passages as text, counted against <see cref="ContextTokens"/>
/// with OpenAI's o200k tokenizer (close enough to any modern chat model's to keep within its window).
/// </remarks>
public sealed partial class AnswererSpec
{
    /// <summary>Tokens of context a chat model gets when the spec does not say (<c>&amp;context=</c>).</summary>
    public const int DefaultContextTokens = 8192;

    /// <summary>Where <c>openai:</c> with no URL goes.</summary>
    public static readonly Uri OpenAiEndpoint = new("https://api.openai.com/v1");

    /// <summary>Where <c>ollama:</c> with no URL goes.</summary>
    public static readonly Uri OllamaEndpoint = new("http://localhost:11434");

    private const string Forms = "expected t5gemma2, openai:<base url>?model=<id> or ollama:<url>?model=<id> (each may add &context=<tokens>)";

    private AnswererSpec(AnswererKind kind, Uri? endpoint, string? model, int contextTokens)
    {
        this.Kind = kind;
        this.Endpoint = endpoint;
        this.Model = model;
        this.ContextTokens = contextTokens;
    }

    /// <summary>The T5Gemma 2 generator answers.</summary>
    public static AnswererSpec T5Gemma2 { get; } = new(AnswererKind.T5Gemma2, null, null, 0);

    public AnswererKind Kind { get; }

    /// <summary>The chat model's base URL; null for <see cref="AnswererKind.T5Gemma2"/>.</summary>
    public Uri? Endpoint { get; }

    /// <summary>The chat model's id; null for <see cref="AnswererKind.T5Gemma2"/>.</summary>
    public string? Model { get; }

    /// <summary>Tokens of packed context a chat model is given at most; 0 for <see cref="AnswererKind.T5Gemma2"/> (the encoder's positions decide).</summary>
    public int ContextTokens { get; }

    /// <summary>Whether a generator must be loaded for this answerer.</summary>
    public bool NeedsGenerator => this.Kind == AnswererKind.T5Gemma2;

    /// <summary>The answerer asked for, or the default: the generator when there is one, else none (search only).</summary>
    /// <exception cref="ArgumentException">The spec is not one of the forms, or asks for t5gemma2 without a generator.</exception>
    public static AnswererSpec? Resolve(string? spec, bool hasGenerator)
    {
        if (string.IsNullOrWhiteSpace(spec))
        {
            return hasGenerator ? T5Gemma2 : null;
        }

        var parsed = Parse(spec);
        if (parsed.NeedsGenerator && !hasGenerator)
        {
            throw new ArgumentException("--answerer t5gemma2 needs a generator: give --generator <T5Gemma 2 dir>, or answer with openai:<base url>?model=<id> or ollama:<url>?model=<id>.", nameof(spec));
        }

        return parsed;
    }

    /// <summary>Reads a spec.</summary>
    /// <exception cref="ArgumentException">Not one of the forms: the message says which part is wrong.</exception>
    public static AnswererSpec Parse(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        string text = spec.Trim();

        // A spec with a password in its URL is refused, and never repeated with the password in the message.
        string shown = UserInfo().Replace(text, "//***@");
        if (text.Equals("t5gemma2", StringComparison.OrdinalIgnoreCase))
        {
            return T5Gemma2;
        }

        int colon = text.IndexOf(':', StringComparison.Ordinal);
        var kind = colon < 0 ? (AnswererKind?)null : text[..colon].ToLowerInvariant() switch
        {
            "openai" => AnswererKind.OpenAi,
            "ollama" => AnswererKind.Ollama,
            _ => null,
        };
        if (kind is null)
        {
            throw new ArgumentException($"--answerer '{shown}': {Forms}.", nameof(spec));
        }

        string rest = text[(colon + 1)..];
        int question = rest.IndexOf('?', StringComparison.Ordinal);
        string address = question < 0 ? rest : rest[..question];
        string query = question < 0 ? string.Empty : rest[(question + 1)..];

        Uri endpoint = kind == AnswererKind.OpenAi ? OpenAiEndpoint : OllamaEndpoint;
        if (address.Length > 0
            && (!Uri.TryCreate(address, UriKind.Absolute, out endpoint!) || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps) || !string.IsNullOrEmpty(endpoint.UserInfo)))
        {
            throw new ArgumentException($"--answerer '{shown}': '{UserInfo().Replace(address, "//***@")}' is not an http or https URL (without a user name; the key comes from OPENAI_API_KEY); {Forms}.", nameof(spec));
        }

        string? model = null;
        int context = DefaultContextTokens;
        foreach (string pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] parts = pair.Split('=', 2);
            string name = Uri.UnescapeDataString(parts[0]);
            string value = parts.Length == 2 ? Uri.UnescapeDataString(parts[1]) : string.Empty;
            switch (name)
            {
                case "model":
                    model = value.Trim() is { Length: > 0 } id ? id : null;
                    break;
                case "context" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int tokens) && tokens >= 256:
                    context = tokens;
                    break;
                case "context":
                    throw new ArgumentException($"--answerer '{shown}': context='{value}' is not a whole number of tokens, at least 256.", nameof(spec));
                default:
                    throw new ArgumentException($"--answerer '{shown}': unknown parameter '{name}'; expected model and, optionally, context.", nameof(spec));
            }
        }

        return model is null
            ? throw new ArgumentException($"--answerer '{shown}': no model; add ?model=<id> (for example {kind.Value.ToString().ToLowerInvariant()}:{endpoint}?model={(kind == AnswererKind.OpenAi ? "gpt-4o-mini" : "llama3.2")}).", nameof(spec))
            : new AnswererSpec(kind.Value, endpoint, model, context);
    }

    /// <summary>
    /// The chat client this spec names; null for <see cref="AnswererKind.T5Gemma2"/>. The caller owns and disposes it.
    /// </summary>
    /// <param name="apiKey">The OpenAI-compatible endpoint's key (<c>OPENAI_API_KEY</c>); needed for api.openai.com, sent as a bearer token elsewhere when given.</param>
    /// <exception cref="ArgumentException">The key cannot go where the spec points (<see cref="ThrowIfKeyCannotGo"/>).</exception>
    public IChatClient? CreateChatClient(string? apiKey)
    {
        this.ThrowIfKeyCannotGo(apiKey);
        switch (this.Kind)
        {
            case AnswererKind.OpenAi:
                // The client cannot be made without a key; with none given it sends none, since a server that checks
                // keys (another t5rag serve among them) refuses a made-up one where it admits a keyless local caller.
                var options = new OpenAIClientOptions { Endpoint = this.Endpoint };
                bool keyless = string.IsNullOrWhiteSpace(apiKey);
                if (keyless)
                {
                    options.AddPolicy(new WithoutAuthorizationPolicy(), PipelinePosition.BeforeTransport);
                }

                return new OpenAIClient(new ApiKeyCredential(keyless ? "none" : apiKey!), options).GetChatClient(this.Model).AsIChatClient();
            case AnswererKind.Ollama:
                // Ollama reads 2,048 or 4,096 tokens unless told, and cuts a longer prompt silently: it is told the window.
                return new ChatClientBuilder(new OllamaApiClient(this.Endpoint!, this.Model!))
                    .ConfigureOptions(options => (options.AdditionalProperties ??= [])["num_ctx"] = this.ContextTokens)
                    .Build();
            default:
                return null;
        }
    }

    /// <summary>
    /// Throws when the key cannot go where the spec points: OpenAI itself with none, or a key to a plain-http address
    /// beyond loopback, where anyone on the way would read it. Nothing is loaded or sent.
    /// </summary>
    /// <param name="apiKey">The key the OpenAI-compatible answerer would send (<c>OPENAI_API_KEY</c> or the configured one).</param>
    /// <exception cref="ArgumentException">The key is missing for OpenAI, or would go in clear text.</exception>
    public void ThrowIfKeyCannotGo(string? apiKey)
    {
        if (this.Kind != AnswererKind.OpenAi)
        {
            return;
        }

        bool keyless = string.IsNullOrWhiteSpace(apiKey);
        if (keyless && this.Endpoint!.Host.Equals(OpenAiEndpoint.Host, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"--answerer {this}: OPENAI_API_KEY is not set; OpenAI needs a key.", nameof(apiKey));
        }

        if (!keyless && this.Endpoint!.Scheme == Uri.UriSchemeHttp && !this.Endpoint.IsLoopback)
        {
            throw new ArgumentException($"--answerer {this}: the API key would go in clear text to {this.Endpoint.Host}; use an https URL, or unset OPENAI_API_KEY for a server that takes no key.", nameof(apiKey));
        }
    }

    /// <summary>
    /// The answerer over <paramref name="retriever"/>: with the generator (<see cref="AnswererKind.T5Gemma2"/>), or with
    /// <paramref name="chatClient"/> (made by <see cref="CreateChatClient"/>) and a packer for text within <see cref="ContextTokens"/>.
    /// </summary>
    public RagAnswerer CreateAnswerer(PassageRetriever retriever, Seq2SeqGenerator? generator, IChatClient? chatClient, ILoggerFactory? loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(retriever);
        if (this.NeedsGenerator)
        {
            return RagAnswerer.Create(retriever, generator ?? throw new ArgumentNullException(nameof(generator), "the T5Gemma 2 answerer needs the generator."), loggerFactory);
        }

        ArgumentNullException.ThrowIfNull(chatClient);
        return new RagAnswerer(retriever, ContextPacker.ForChatModel(ChatTokenizer.Default, this.ContextTokens), chatClient, loggerFactory);
    }

    /// <summary>Counts text in the tokens a chat answerer's context is counted in (for usage figures).</summary>
    public static int CountChatTokens(string text) => ChatTokenizer.Default.CountTokens(text);

    [System.Text.RegularExpressions.GeneratedRegex("//[^/@?]*@")]
    private static partial System.Text.RegularExpressions.Regex UserInfo();

    /// <summary>The spec as it is written (it holds no key).</summary>
    public override string ToString() => this.Kind switch
    {
        AnswererKind.T5Gemma2 => "t5gemma2",
        _ => string.Create(CultureInfo.InvariantCulture, $"{this.Kind.ToString().ToLowerInvariant()}:{this.Endpoint!.ToString().TrimEnd('/')}?model={Uri.EscapeDataString(this.Model!)}{(this.ContextTokens != DefaultContextTokens ? $"&context={this.ContextTokens}" : string.Empty)}"),
    };
}
