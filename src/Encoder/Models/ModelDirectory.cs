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
    /// "query_prefix": "...", "passage_prefix": "...", "matryoshka_dimensions": [768, 512, 256, 128]}</c>; what it sets
    /// overrides the sentence-transformers files. The converter writes one beside the graphs it makes.
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

    /// <summary>
    /// The length the files asked for (t5rag.json, sentence_bert_config.json, tokenizer_config.json), before the cap at
    /// config.json's max_position_embeddings: above <see cref="MaxLength"/> when it was capped, which the generator warns about.
    /// </summary>
    public int ConfiguredMaxLength { get; private init; }

    /// <summary>The width of the encoder's states, from config.json, when it says.</summary>
    public int? HiddenSize { get; private init; }

    /// <summary>The first (usually only) pooling mode of <see cref="PoolingModule"/>.</summary>
    public PoolingMode Pooling => this.PoolingModule.Modes[0];

    /// <summary>How token states become one vector: the Pooling module's modes and whether the prompt's positions count.</summary>
    public PoolingModule PoolingModule { get; private init; } = PoolingModule.Of(PoolingMode.Mean);

    /// <summary>The Dense modules after pooling, in order; empty for most models.</summary>
    public IReadOnlyList<DenseModule> Dense { get; private init; } = [];

    /// <summary>Whether the vectors are made unit length (a Normalize module, or our manifest).</summary>
    public bool Normalize { get; private init; }

    /// <summary>The sentence-transformers module pipeline, when the directory has a modules.json.</summary>
    public SentenceTransformerModules? Modules { get; private init; }

    /// <summary>The prompts by name and the similarity, from config_sentence_transformers.json (<see cref="SentenceTransformerPrompts.None"/> without one).</summary>
    public SentenceTransformerPrompts Prompts { get; private init; } = SentenceTransformerPrompts.None;

    /// <summary>The shorter vector lengths the model was trained to keep (Matryoshka), longest first; empty when it lists none.</summary>
    public IReadOnlyList<int> MatryoshkaDimensions { get; private init; } = [];

    /// <summary>Text put before a query before it is embedded (e.g. "query: "); empty when the model uses none. The manifest's query_prefix, else sentence-transformers' encode_query choice.</summary>
    public string QueryPrefix { get; private init; } = "";

    /// <summary>Text put before a passage before it is embedded; empty when the model uses none. The manifest's passage_prefix, else sentence-transformers' encode_document choice.</summary>
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
            "t5gemma2" or "t5gemma2_encoder" or "t5gemma2_text" => OpenGemma(directory, ModelKind.T5Gemma2, modelId, config, manifest),
            "gemma3_text" => OpenGemma(directory, ModelKind.Gemma3Encoder, modelId, config, manifest),
            "bert" or "distilbert" => OpenBert(directory, modelId, config, manifest),
            _ => throw new ModelFileException(configPath, $"model_type \"{modelType}\" is not supported; expected \"t5gemma2\", \"t5gemma2_encoder\" or \"gemma3_text\" (converted with t5rag model convert) or \"bert\"/\"distilbert\" (sentence-transformers ONNX export)."),
        };
    }

    /// <summary>
    /// The model's own tokenizer: a <see cref="GemmaTokenizer"/> for T5Gemma 2, a WordPiece <see cref="BertTokenizer"/>
    /// for BERT-family models. Loading is not cheap (about a second for Gemma); keep the instance.
    /// </summary>
    /// <exception cref="ModelFileException">The tokenizer file is missing, unreadable or of another layout.</exception>
    public Tokenizer CreateTokenizer()
    {
        if (this.Kind != ModelKind.BertSentenceTransformer)
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

    private static ModelDirectory OpenGemma(string directory, ModelKind kind, string modelId, JsonElement config, JsonElement? manifest)
    {
        // The encoder's text settings sit under encoder.text_config in T5Gemma 2 configs, under text_config in a
        // standalone encoder's, or at the top (t5gemma2_text, gemma3_text).
        var text = config;
        if (config.TryGetProperty("encoder", out var encoder) && encoder.ValueKind == JsonValueKind.Object)
        {
            text = encoder.TryGetProperty("text_config", out var textConfig) && textConfig.ValueKind == JsonValueKind.Object ? textConfig : encoder;
        }
        else if (config.TryGetProperty("text_config", out var encoderText) && encoderText.ValueKind == JsonValueKind.Object)
        {
            text = encoderText;
        }

        int maxPositions = text.GetInt32("max_position_embeddings") ?? 131_072;
        int? hidden = text.GetInt32("hidden_size");
        var modules = SentenceTransformerModules.Read(directory, hidden);
        if (modules is { LowerCase: true })
        {
            throw new ModelFileException(System.IO.Path.Combine(directory, "sentence_bert_config.json"), "field 'do_lower_case' is true; expected false for a Gemma tokenizer, which is case-sensitive.");
        }

        // sentence-transformers repositories keep the length in the Transformer config or in tokenizer_config.json;
        // a plain checkpoint's tokenizer_config.json says nothing about the encoder, so only max_position_embeddings counts.
        int? tokenizerMax = modules is null ? null : TokenizerMaxLength(directory);
        int maxLength = manifest?.GetInt32("max_length") ?? modules?.MaxSequenceLength ?? tokenizerMax ?? maxPositions;
        var files = (RequireFile(directory, [EncoderGraphNames.GraphFile], "the encoder graph written by t5rag model convert"), RequireFile(directory, ["tokenizer.json"], "the Gemma tokenizer.json"));
        var vision = File.Exists(System.IO.Path.Combine(directory, VisionGraphNames.GraphFile)) ? ReadVision(directory, config) : null;
        return Build(directory, kind, modelId, manifest, modules, hidden, (maxLength, maxPositions, 1), files, wordPiece: default, vision);
    }

    private static ModelDirectory OpenBert(string directory, string modelId, JsonElement config, JsonElement? manifest)
    {
        var tokenizerConfig = ConfigFile.Read(System.IO.Path.Combine(directory, "tokenizer_config.json"), required: false, "a Hugging Face tokenizer_config.json");
        int? hidden = config.GetInt32("hidden_size") ?? config.GetInt32("dim");
        var modules = SentenceTransformerModules.Read(directory, hidden);
        int maxPositions = config.GetInt32("max_position_embeddings") ?? 512;
        int maxLength = manifest?.GetInt32("max_length")
            ?? modules?.MaxSequenceLength
            ?? TokenizerMaxLength(directory)
            ?? maxPositions;

        bool tokenizerLowerCase = tokenizerConfig?.GetBoolean("do_lower_case") ?? true;
        var files = (RequireFile(directory, ["onnx/model.onnx", "model.onnx"], "the ONNX export of the model"), RequireFile(directory, ["vocab.txt"], "the WordPiece vocab.txt"));
        // Hugging Face strips accents whenever its tokenizer lower-cases, unless strip_accents says otherwise; the
        // Transformer module's do_lower_case lower-cases the text before the tokenizer and strips nothing.
        var wordPiece = (tokenizerLowerCase || modules is { LowerCase: true }, tokenizerConfig?.GetBoolean("strip_accents") ?? tokenizerLowerCase, tokenizerConfig?.GetBoolean("tokenize_chinese_chars") ?? true);
        return Build(directory, ModelKind.BertSentenceTransformer, modelId, manifest, modules, hidden, (maxLength, maxPositions, 3), files, wordPiece);
    }

    /// <summary>What every kind shares: the module pipeline, the prompts and Matryoshka dimensions, with the manifest over them.</summary>
    private static ModelDirectory Build(
        string directory, ModelKind kind, string modelId, JsonElement? manifest, SentenceTransformerModules? modules, int? hidden, (int Configured, int Positions, int Minimum) length,
        (string Graph, string Tokenizer) files, (bool LowerCase, bool StripAccents, bool ChineseCharacters) wordPiece, VisionConfig? vision = null)
    {
        var prompts = SentenceTransformerPrompts.Read(directory);
        var manifestPooling = ParsePooling(manifest?.GetString("pooling"), directory);
        return new ModelDirectory(directory, kind, modelId)
        {
            EncoderGraphPath = files.Graph,
            TokenizerPath = files.Tokenizer,
            LowerCase = wordPiece.LowerCase,
            StripAccents = wordPiece.StripAccents,
            TokenizeChineseCharacters = wordPiece.ChineseCharacters,
            HiddenSize = hidden,
            // The model was never trained past its positions (and RoPE would run past them): capped, as sentence-transformers caps the tokenizer's length.
            MaxLength = CheckMaxLength(Math.Min(length.Configured, length.Positions), length.Minimum, directory),
            ConfiguredMaxLength = length.Configured,
            Modules = modules,
            PoolingModule = manifestPooling is { } mode ? PoolingModule.Of(mode) : modules?.Pooling ?? PoolingModule.Of(PoolingMode.Mean),
            Dense = modules?.Dense ?? [],
            // Without modules.json nothing says whether the model's vectors are unit length: they are made so.
            Normalize = manifest?.GetBoolean("normalize") ?? modules?.Normalize ?? true,
            Prompts = prompts,
            QueryPrefix = manifest?.GetString("query_prefix") ?? prompts.QueryPrompt,
            PassagePrefix = manifest?.GetString("passage_prefix") ?? prompts.PassagePrompt,
            MatryoshkaDimensions = ReadMatryoshka(manifest, directory) ?? KnownMatryoshkaDimensions(modelId),
            Vision = vision,
        };
    }

    /// <summary>
    /// The image path's settings, when the directory has the vision graph (a conversion of a checkpoint with a vision
    /// tower); null for a text-only model.
    /// </summary>
    public VisionConfig? Vision { get; private init; }

    /// <summary>The image path's settings, or the one-line error an image request to a text-only model gets.</summary>
    /// <exception cref="ImagesNotSupportedException">The model has no vision graph.</exception>
    public VisionConfig RequireVision() => this.Vision ?? throw new ImagesNotSupportedException(this.Path);

    private static VisionConfig ReadVision(string directory, JsonElement config)
    {
        string path = System.IO.Path.Combine(directory, "config.json");
        return T5Gemma2Config.Parse(config, path).Vision
            ?? throw new ModelFileException(path, $"has no encoder.vision_config, but the directory has {VisionGraphNames.GraphFile}; expected the config the model was converted from.");
    }

    private static int? TokenizerMaxLength(string directory) =>
        ConfigFile.Read(System.IO.Path.Combine(directory, "tokenizer_config.json"), required: false, "a Hugging Face tokenizer_config.json")?.GetInt32("model_max_length") is int value and > 0 and < 1_000_000 ? value : null;

    private static int[]? ReadMatryoshka(JsonElement? manifest, string directory)
    {
        if (manifest is not { } m || !m.TryGetProperty("matryoshka_dimensions", out var list) || list.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (list.ValueKind != JsonValueKind.Array || list.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out int d) || d < 1))
        {
            throw new ModelFileException(System.IO.Path.Combine(directory, ManifestFileName), $"field 'matryoshka_dimensions' is {list.GetRawText()}; expected a list of positive integers such as [768, 512, 256, 128].");
        }

        return [.. list.EnumerateArray().Select(e => e.GetInt32()).OrderDescending()];
    }

    // The model card lists them; no file of the repository does.
    private static int[] KnownMatryoshkaDimensions(string modelId) =>
        modelId.EndsWith("embeddinggemma-300m", StringComparison.OrdinalIgnoreCase) ? [768, 512, 256, 128] : [];

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
