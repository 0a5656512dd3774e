using System.Text;
using System.Text.Json;
using Microsoft.ML.Tokenizers;
using T5Gemma2.Rag.Encoder.Tokenization;

namespace T5Gemma2.Rag.Encoder.Models;

/// <summary>
/// A model directory as it describes itself: which kind of model it holds, where its ONNX graph and tokenizer are,
/// and how its embeddings are made (pooling, normalization, maximum length, query and passage prefixes).
/// </summary>
/// <remarks>
/// The facts come from the files the model's publishers ship (config.json, tokenizer_config.json and, for
/// sentence-transformers exports, modules.json, 1_Pooling/config.json, sentence_bert_config.json and
/// config_sentence_transformers.json). An optional <c>t5rag.json</c> of ours overrides them; see <see cref="ManifestFileName"/>.
/// </remarks>
public sealed class ModelDirectory
{
    /// <summary>
    /// Our manifest, optional: <c>{"pooling": "mean|cls|last_token", "normalize": true, "max_length": 512,
    /// "query_prefix": "...", "passage_prefix": "..."}</c>. The converter writes one beside the graphs it makes.
    /// </summary>
    public const string ManifestFileName = "t5rag.json";

    private ModelDirectory(string path, ModelKind kind, string modelId)
    {
        this.Path = path;
        this.Kind = kind;
        this.ModelId = modelId;
    }

    /// <summary>The directory's full path.</summary>
    public string Path { get; }

    public ModelKind Kind { get; }

    /// <summary>A name for the model: config.json's <c>_name_or_path</c>, else the directory name.</summary>
    public string ModelId { get; }

    /// <summary>The ONNX graph that maps token ids to per-token states (<c>last_hidden_state</c>).</summary>
    public string EncoderGraphPath { get; private init; } = "";

    /// <summary>tokenizer.json for T5Gemma 2; vocab.txt for BERT-family models.</summary>
    public string TokenizerPath { get; private init; } = "";

    /// <summary>The most tokens (special tokens included) one input keeps; longer inputs are truncated.</summary>
    public int MaxLength { get; private init; }

    /// <summary>The width of the encoder's states, from config.json, when it says.</summary>
    public int? HiddenSize { get; private init; }

    public PoolingMode Pooling { get; private init; }

    public bool Normalize { get; private init; }

    /// <summary>Text put before a query before it is embedded (e.g. "query: "); empty when the model uses none.</summary>
    public string QueryPrefix { get; private init; } = "";

    /// <summary>Text put before a passage before it is embedded; empty when the model uses none.</summary>
    public string PassagePrefix { get; private init; } = "";

    /// <summary>BERT-family only: whether the WordPiece tokenizer lower-cases (tokenizer_config.json do_lower_case).</summary>
    public bool LowerCase { get; private init; }

    /// <summary>BERT-family only: whether accents are stripped (tokenizer_config.json strip_accents, else do_lower_case).</summary>
    public bool StripAccents { get; private init; }

    /// <summary>BERT-family only: whether CJK characters become separate words (tokenizer_config.json tokenize_chinese_chars).</summary>
    public bool TokenizeChineseCharacters { get; private init; } = true;

    /// <summary>Whether two paths name one model directory (after making them full), so its encoder can be loaded once for embedding and answering.</summary>
    public static bool IsSameDirectory(string first, string second) =>
        string.Equals(System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(first)), System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(second)), StringComparison.Ordinal);

    /// <summary>
    /// Reads a model directory.
    /// </summary>
    /// <exception cref="ModelFileException">A file is missing or corrupt, or the model type is not one this library runs.</exception>
    public static ModelDirectory Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string directory = System.IO.Path.GetFullPath(path);
        if (File.Exists(directory))
        {
            throw new ModelFileException(directory, "is a file; expected a model directory (config.json beside the ONNX graph and tokenizer).");
        }

        if (!Directory.Exists(directory))
        {
            throw new ModelFileException(directory, "not found; expected a model directory (a T5Gemma 2 conversion or a sentence-transformers ONNX export).");
        }

        string configPath = System.IO.Path.Combine(directory, "config.json");
        var config = ConfigFile.Read(configPath, required: true, "the model's config.json (a T5Gemma 2 conversion or a sentence-transformers ONNX export)")!.Value;
        var manifest = ConfigFile.Read(System.IO.Path.Combine(directory, ManifestFileName), required: false, "t5rag's model manifest");
        string modelType = config.GetString("model_type")
            ?? throw new ModelFileException(configPath, "has no \"model_type\"; expected \"t5gemma2\" or a BERT-family type such as \"bert\".");
        string modelId = config.GetString("_name_or_path") is { Length: > 0 } name ? name : System.IO.Path.GetFileName(directory);

        return modelType switch
        {
            "t5gemma2" or "t5gemma2_encoder" => OpenT5Gemma2(directory, modelId, config, manifest),
            "bert" or "distilbert" => OpenBert(directory, modelId, config, manifest),
            _ => throw new ModelFileException(configPath, $"model_type \"{modelType}\" is not supported; expected \"t5gemma2\" (converted with t5rag model convert) or \"bert\"/\"distilbert\" (sentence-transformers ONNX export)."),
        };
    }

    /// <summary>
    /// The model's own tokenizer: a <see cref="GemmaTokenizer"/> for T5Gemma 2, a WordPiece <see cref="BertTokenizer"/>
    /// for BERT-family models. Loading is not cheap (about a second for Gemma); keep the instance.
    /// </summary>
    /// <exception cref="ModelFileException">The tokenizer file is missing, unreadable or of another layout.</exception>
    public Tokenizer CreateTokenizer()
    {
        if (this.Kind == ModelKind.T5Gemma2)
        {
            return GemmaTokenizer.Create(this.TokenizerPath);
        }

        string vocabulary;
        try
        {
            // Some exports ship vocab.txt with CRLF line endings; the tokenizer would keep the '\r' in every token.
            vocabulary = File.ReadAllText(this.TokenizerPath).Replace("\r\n", "\n", StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModelFileException(this.TokenizerPath, $"cannot be read ({ex.Message}).", ex);
        }

        if (!vocabulary.Contains("[CLS]\n", StringComparison.Ordinal) || !vocabulary.Contains("[SEP]\n", StringComparison.Ordinal))
        {
            throw new ModelFileException(this.TokenizerPath, "has no [CLS] or [SEP] line; expected a BERT WordPiece vocabulary, one token per line.");
        }

        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(vocabulary));
        return BertTokenizer.Create(stream, new BertOptions
        {
            LowerCaseBeforeTokenization = this.LowerCase,
            RemoveNonSpacingMarks = this.StripAccents,
            IndividuallyTokenizeCjk = this.TokenizeChineseCharacters,
        });
    }

    private static ModelDirectory OpenT5Gemma2(string directory, string modelId, JsonElement config, JsonElement? manifest)
    {
        // The encoder's text settings sit under encoder.text_config in T5Gemma 2 configs, or at the top for an encoder-only config.
        var text = config;
        if (config.TryGetProperty("encoder", out var encoder) && encoder.ValueKind == JsonValueKind.Object)
        {
            text = encoder.TryGetProperty("text_config", out var textConfig) && textConfig.ValueKind == JsonValueKind.Object ? textConfig : encoder;
        }

        int maxPositions = text.GetInt32("max_position_embeddings") ?? 131_072;
        return new ModelDirectory(directory, ModelKind.T5Gemma2, modelId)
        {
            EncoderGraphPath = RequireFile(directory, [EncoderGraphNames.GraphFile], "the encoder graph written by t5rag model convert"),
            TokenizerPath = RequireFile(directory, ["tokenizer.json"], "the Gemma tokenizer.json"),
            HiddenSize = text.GetInt32("hidden_size"),
            MaxLength = CheckMaxLength(Math.Min(manifest?.GetInt32("max_length") ?? maxPositions, maxPositions), 1, directory),
            Pooling = ParsePooling(manifest?.GetString("pooling"), directory) ?? PoolingMode.Mean,
            Normalize = manifest?.GetBoolean("normalize") ?? true,
            QueryPrefix = manifest?.GetString("query_prefix") ?? "",
            PassagePrefix = manifest?.GetString("passage_prefix") ?? "",
        };
    }

    private static ModelDirectory OpenBert(string directory, string modelId, JsonElement config, JsonElement? manifest)
    {
        var tokenizerConfig = ConfigFile.Read(System.IO.Path.Combine(directory, "tokenizer_config.json"), required: false, "a Hugging Face tokenizer_config.json");
        var sentenceBertConfig = ConfigFile.Read(System.IO.Path.Combine(directory, "sentence_bert_config.json"), required: false, "sentence-transformers' sentence_bert_config.json");
        var prompts = ConfigFile.Read(System.IO.Path.Combine(directory, "config_sentence_transformers.json"), required: false, "sentence-transformers' config_sentence_transformers.json");
        var (pooling, normalize) = ReadSentenceTransformersModules(directory);

        int? tokenizerMax = tokenizerConfig?.GetInt32("model_max_length");
        int maxPositions = config.GetInt32("max_position_embeddings") ?? 512;
        int maxLength = manifest?.GetInt32("max_length")
            ?? sentenceBertConfig?.GetInt32("max_seq_length")
            ?? (tokenizerMax is > 0 and < 1_000_000 ? tokenizerMax : null)
            ?? maxPositions;

        bool lowerCase = tokenizerConfig?.GetBoolean("do_lower_case") ?? true;
        string? query = null, passage = null;
        if (prompts is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty("prompts", out var promptTable) && promptTable.ValueKind == JsonValueKind.Object)
        {
            query = promptTable.GetString("query");
            passage = promptTable.GetString("passage") ?? promptTable.GetString("document");
        }

        return new ModelDirectory(directory, ModelKind.BertSentenceTransformer, modelId)
        {
            EncoderGraphPath = RequireFile(directory, ["onnx/model.onnx", "model.onnx"], "the ONNX export of the model"),
            TokenizerPath = RequireFile(directory, ["vocab.txt"], "the WordPiece vocab.txt"),
            HiddenSize = config.GetInt32("hidden_size") ?? config.GetInt32("dim"),
            MaxLength = CheckMaxLength(Math.Min(maxLength, maxPositions), 3, directory),
            Pooling = ParsePooling(manifest?.GetString("pooling"), directory) ?? pooling ?? PoolingMode.Mean,
            Normalize = manifest?.GetBoolean("normalize") ?? normalize ?? true,
            QueryPrefix = manifest?.GetString("query_prefix") ?? query ?? "",
            PassagePrefix = manifest?.GetString("passage_prefix") ?? passage ?? "",
            LowerCase = lowerCase,
            // Hugging Face strips accents whenever it lower-cases, unless strip_accents says otherwise.
            StripAccents = tokenizerConfig?.GetBoolean("strip_accents") ?? lowerCase,
            TokenizeChineseCharacters = tokenizerConfig?.GetBoolean("tokenize_chinese_chars") ?? true,
        };
    }

    /// <summary>Pooling and normalization as sentence-transformers' modules.json lays them out, when the directory has one.</summary>
    private static (PoolingMode? Pooling, bool? Normalize) ReadSentenceTransformersModules(string directory)
    {
        string modulesPath = System.IO.Path.Combine(directory, "modules.json");
        var modules = ConfigFile.Read(modulesPath, required: false, "sentence-transformers' modules.json");
        if (modules is not { ValueKind: JsonValueKind.Array } list)
        {
            return (null, null);
        }

        PoolingMode? pooling = null;
        bool normalize = false;
        foreach (var module in list.EnumerateArray())
        {
            string type = module.GetString("type") ?? "";
            if (type.EndsWith(".Normalize", StringComparison.Ordinal))
            {
                normalize = true;
            }
            else if (type.EndsWith(".Pooling", StringComparison.Ordinal))
            {
                string poolingPath = System.IO.Path.Combine(directory, module.GetString("path") ?? "", "config.json");
                var poolingConfig = ConfigFile.Read(poolingPath, required: true, "the pooling module's config.json named by modules.json")!.Value;
                pooling = poolingConfig.GetBoolean("pooling_mode_cls_token") == true ? PoolingMode.Cls
                    : poolingConfig.GetBoolean("pooling_mode_lasttoken") == true ? PoolingMode.LastToken
                    : poolingConfig.GetBoolean("pooling_mode_mean_tokens") == true ? PoolingMode.Mean
                    : throw new ModelFileException(poolingPath, "names no pooling this library supports; expected pooling_mode_mean_tokens, pooling_mode_cls_token or pooling_mode_lasttoken set to true.");
            }
        }

        return (pooling, normalize);
    }

    private static PoolingMode? ParsePooling(string? value, string directory) => value switch
    {
        null => null,
        "mean" => PoolingMode.Mean,
        "cls" => PoolingMode.Cls,
        "last_token" => PoolingMode.LastToken,
        _ => throw new ModelFileException(System.IO.Path.Combine(directory, ManifestFileName), $"field 'pooling' is \"{value}\"; expected \"mean\", \"cls\" or \"last_token\"."),
    };

    private static int CheckMaxLength(int value, int minimum, string directory) =>
        value >= minimum ? value : throw new ModelFileException(System.IO.Path.Combine(directory, ManifestFileName), $"the maximum length works out to {value} tokens; expected at least {minimum} (the model's special tokens plus text).");

    private static string RequireFile(string directory, string[] candidates, string expected)
    {
        foreach (string candidate in candidates)
        {
            string path = System.IO.Path.Combine(directory, candidate);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new ModelFileException(System.IO.Path.Combine(directory, candidates[0]), $"not found; expected {expected}.");
    }
}
