using System.Text.Json;

namespace T5Gemma2.Rag.Encoder.Models;

/// <summary>
/// What <c>config_sentence_transformers.json</c> says about using a model: its prompts by name, the default prompt,
/// the similarity function and the default truncation. Prompts are chosen as sentence-transformers'
/// <c>encode_query</c> and <c>encode_document</c> choose them.
/// </summary>
public sealed class SentenceTransformerPrompts
{
    /// <summary>The file's name.</summary>
    public const string FileName = "config_sentence_transformers.json";

    /// <summary>A directory without the file: no prompts, cosine similarity.</summary>
    public static SentenceTransformerPrompts None { get; } = new(new Dictionary<string, string>(StringComparer.Ordinal), null, "cosine", null, null);

    private SentenceTransformerPrompts(IReadOnlyDictionary<string, string> prompts, string? defaultPromptName, string similarity, int? truncateDimension, string? path)
    {
        this.Prompts = prompts;
        this.DefaultPromptName = defaultPromptName;
        this.Similarity = similarity;
        this.TruncateDimension = truncateDimension;
        this.FilePath = path;
    }

    /// <summary>The prompts by name (EmbeddingGemma: "query" → "task: search result | query: ", "document" → "title: none | text: ", and 12 task names).</summary>
    public IReadOnlyDictionary<string, string> Prompts { get; }

    /// <summary>The prompt used when nothing else chooses one; null for none.</summary>
    public string? DefaultPromptName { get; }

    /// <summary>"cosine" or "dot": how the model's vectors are compared.</summary>
    public string Similarity { get; }

    /// <summary>The default Matryoshka dimension (sentence-transformers 6's <c>truncate_dim</c>); null for the full width.</summary>
    public int? TruncateDimension { get; }

    /// <summary>The file read, or null when there was none.</summary>
    public string? FilePath { get; }

    /// <summary>The prompt for a query: "query" when there is one, else the default prompt, else none (sentence-transformers' encode_query).</summary>
    public string QueryPrompt => this.Prompts.TryGetValue("query", out string? query) ? query : this.DefaultPrompt;

    /// <summary>The prompt for a passage: the first of "document", "passage", "corpus", else the default prompt (sentence-transformers' encode_document).</summary>
    public string PassagePrompt =>
        new[] { "document", "passage", "corpus" }.Select(name => this.Prompts.GetValueOrDefault(name)).FirstOrDefault(p => p is not null) ?? this.DefaultPrompt;

    private string DefaultPrompt => this.DefaultPromptName is { } name ? this.Prompts[name] : "";

    /// <summary>The prompt named <paramref name="name"/>.</summary>
    /// <exception cref="ModelFileException">The file has no prompt of that name; the message lists those it has.</exception>
    public string Named(string name) =>
        this.Prompts.TryGetValue(name, out string? prompt)
            ? prompt
            : throw new ModelFileException(this.FilePath ?? FileName, $"has no prompt '{name}'; expected one of [{string.Join(", ", this.Prompts.Keys.Order(StringComparer.Ordinal))}].");

    /// <summary>Reads the file in <paramref name="directory"/>, or returns <see cref="None"/> when there is none.</summary>
    /// <exception cref="ModelFileException">The file is not valid, or names a model type, similarity or default prompt this library cannot honour.</exception>
    public static SentenceTransformerPrompts Read(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (ConfigFile.Read(path, required: false, "sentence-transformers' model config") is not { } config)
        {
            return None;
        }

        if (config.ValueKind != JsonValueKind.Object)
        {
            throw new ModelFileException(path, "is not a JSON object; expected sentence-transformers' model config.");
        }

        if (config.GetString("model_type") is { } type && type != "SentenceTransformer")
        {
            throw new ModelFileException(path, $"field 'model_type' is \"{type}\"; expected \"SentenceTransformer\" (one dense vector per text; sparse, cross and multi-vector encoders are not supported).");
        }

        var prompts = new Dictionary<string, string>(StringComparer.Ordinal);
        if (config.TryGetProperty("prompts", out var table) && table.ValueKind == JsonValueKind.Object)
        {
            foreach (var prompt in table.EnumerateObject())
            {
                prompts[prompt.Name] = prompt.Value.ValueKind == JsonValueKind.String
                    ? prompt.Value.GetString()!
                    : throw new ModelFileException(path, $"field 'prompts.{prompt.Name}' is {prompt.Value.GetRawText()}; expected a string.");
            }
        }

        string? defaultName = config.GetString("default_prompt_name");
        if (defaultName is not null && !prompts.ContainsKey(defaultName))
        {
            throw new ModelFileException(path, $"field 'default_prompt_name' is \"{defaultName}\"; expected one of the prompts [{string.Join(", ", prompts.Keys.Order(StringComparer.Ordinal))}].");
        }

        string similarity = config.GetString("similarity_fn_name") ?? "cosine";
        if (similarity is not ("cosine" or "dot"))
        {
            throw new ModelFileException(path, $"field 'similarity_fn_name' is \"{similarity}\"; expected \"cosine\" or \"dot\" (the stores rank by those).");
        }

        int? truncate = config.GetInt32("truncate_dim");
        if (config.TryGetProperty("truncate_dim", out var raw) && raw.ValueKind != JsonValueKind.Null && truncate is not > 0)
        {
            throw new ModelFileException(path, $"field 'truncate_dim' is {raw.GetRawText()}; expected a positive integer or null.");
        }

        return new SentenceTransformerPrompts(prompts, defaultName, similarity, truncate, path);
    }
}
