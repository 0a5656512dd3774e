using System.Text.Json;

namespace T5Gemma2.Rag.Encoder.Models;

/// <summary>
/// A sentence-transformers repository's module pipeline, read as sentence-transformers reads it: <c>modules.json</c>
/// (Transformer, then Pooling, then any Dense, Normalize and Dropout modules, in order), each module's folder, and
/// the Transformer's <c>sentence_bert_config.json</c>. Every model directory goes through this one reader.
/// </summary>
/// <remarks>
/// Module types are matched by their last dotted segment, because sentence-transformers renamed its module paths
/// (<c>sentence_transformers.models.Pooling</c> up to 5.3, <c>sentence_transformers.sentence_transformer.modules.pooling.Pooling</c>
/// since). A module this reader does not know, or one from outside sentence-transformers (custom code), is refused
/// with one line naming modules.json, the entry and its type: running it differently would give other vectors silently.
/// </remarks>
public sealed class SentenceTransformerModules
{
    /// <summary>The file that lists the modules.</summary>
    public const string ModulesFileName = "modules.json";

    // sentence-transformers tries these names, in this order, for the Transformer module's own config.
    private static readonly string[] s_transformerConfigNames =
    [
        "sentence_bert_config.json", "sentence_roberta_config.json", "sentence_distilbert_config.json", "sentence_camembert_config.json",
        "sentence_albert_config.json", "sentence_xlm-roberta_config.json", "sentence_xlnet_config.json",
    ];

    private SentenceTransformerModules(string directory, PoolingModule pooling, IReadOnlyList<DenseModule> dense, bool normalize, IReadOnlyList<string> files)
    {
        this.Directory = directory;
        this.Pooling = pooling;
        this.Dense = dense;
        this.Normalize = normalize;
        this.Files = files;
    }

    /// <summary>The repository's directory.</summary>
    public string Directory { get; }

    public PoolingModule Pooling { get; }

    /// <summary>The Dense modules after pooling, in order (EmbeddingGemma: 768→3072, then 3072→768).</summary>
    public IReadOnlyList<DenseModule> Dense { get; }

    /// <summary>Whether a Normalize module makes the vectors unit length.</summary>
    public bool Normalize { get; }

    /// <summary>The Transformer config's <c>max_seq_length</c> (sentence-transformers up to 5.3 writes it; later versions keep it in tokenizer_config.json).</summary>
    public int? MaxSequenceLength { get; private init; }

    /// <summary>The Transformer config's <c>do_lower_case</c>: sentence-transformers lower-cases the text before tokenizing.</summary>
    public bool LowerCase { get; private init; }

    /// <summary>The sentence-transformers files and module folders, relative to <see cref="Directory"/>: what a conversion carries over.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>
    /// Reads the pipeline of <paramref name="directory"/>, or returns null when it has no modules.json.
    /// </summary>
    /// <param name="hiddenSize">The backbone's hidden size, which the Pooling module must agree with; null when unknown.</param>
    /// <exception cref="ModelFileException">A file is missing or not valid, a module is unknown, or shapes disagree.</exception>
    public static SentenceTransformerModules? Read(string directory, int? hiddenSize)
    {
        string modulesPath = Path.Combine(directory, ModulesFileName);
        if (ConfigFile.Read(modulesPath, required: false, "sentence-transformers' modules.json (a list of modules)") is not { } modules)
        {
            return null;
        }

        if (modules.ValueKind != JsonValueKind.Array || modules.GetArrayLength() == 0)
        {
            throw new ModelFileException(modulesPath, "is not a non-empty JSON list; expected sentence-transformers' modules: a Transformer, a Pooling, then any Dense and Normalize.");
        }

        var files = new List<string> { ModulesFileName };
        PoolingModule? pooling = null;
        var dense = new List<DenseModule>();
        bool normalize = false, seenTransformer = false;
        int? maxSequenceLength = null;
        bool lowerCase = false;
        int width = 0;
        foreach (var (entry, position) in modules.EnumerateArray().Select((e, i) => (e, i)))
        {
            string type = entry.GetString("type") ?? "";
            string where = $"entry {entry.GetInt32("idx") ?? position} (type \"{type}\")";
            string relative = entry.GetString("path") ?? "";
            string folder = Path.GetFullPath(Path.Combine(directory, relative));
            if (!type.StartsWith("sentence_transformers.", StringComparison.Ordinal))
            {
                throw new ModelFileException(modulesPath, $"{where} is not a sentence-transformers module; expected Transformer, Pooling, Dense, Normalize or Dropout (custom module code is not run).");
            }

            if (relative.Length > 0 && !folder.StartsWith(Path.GetFullPath(directory) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                throw new ModelFileException(modulesPath, $"{where} has path \"{relative}\" outside the repository; expected a sub-folder such as \"1_Pooling\".");
            }

            string kind = type[(type.LastIndexOf('.') + 1)..];
            if (position == 0 != (kind == "Transformer") || (kind == "Transformer" && seenTransformer))
            {
                throw new ModelFileException(modulesPath, $"{where} is out of place; expected exactly one Transformer, first.");
            }

            if (kind is "Dense" or "Normalize" && pooling is null)
            {
                throw new ModelFileException(modulesPath, $"{where} comes before the Pooling module; expected Transformer, Pooling, then Dense and Normalize.");
            }

            if (relative.Length > 0 && kind is not ("Normalize" or "Dropout") && !System.IO.Directory.Exists(folder))
            {
                throw new ModelFileException(folder, $"not found; expected the folder of modules.json's {where}.");
            }

            switch (kind)
            {
                case "Transformer":
                    seenTransformer = true;
                    (maxSequenceLength, lowerCase, string? configName) = ReadTransformer(folder);
                    if (configName is not null)
                    {
                        files.Add(Path.Combine(relative, configName));
                    }

                    break;
                case "Pooling":
                    if (pooling is not null)
                    {
                        throw new ModelFileException(modulesPath, $"{where} is a second Pooling module; expected one.");
                    }

                    pooling = ReadPooling(Path.Combine(folder, "config.json"), hiddenSize);
                    width = hiddenSize is int h ? pooling.OutputWidth(h) : 0;
                    AddFolder(files, relative);
                    break;
                case "Dense":
                    var module = ReadDense(folder, width);
                    dense.Add(module);
                    width = module.OutFeatures;
                    AddFolder(files, relative);
                    break;
                case "Normalize":
                    CheckSentenceEmbeddingNames(Path.Combine(folder, "config.json"));
                    normalize = true;
                    if (System.IO.Directory.Exists(folder))
                    {
                        AddFolder(files, relative);
                    }

                    break;
                case "Dropout":
                    break; // identity at inference
                default:
                    throw new ModelFileException(modulesPath, $"{where} is a module this library does not run; expected Transformer, Pooling, Dense, Normalize or Dropout.");
            }
        }

        if (pooling is null)
        {
            throw new ModelFileException(modulesPath, "lists no Pooling module; expected one after the Transformer (one vector per text).");
        }

        return new SentenceTransformerModules(directory, pooling, dense, normalize, files)
        {
            MaxSequenceLength = maxSequenceLength,
            LowerCase = lowerCase,
        };
    }

    /// <summary>Copies the sentence-transformers files and module folders into <paramref name="targetDirectory"/>, as they are.</summary>
    public void CopyTo(string targetDirectory)
    {
        foreach (string relative in this.Files)
        {
            string source = Path.Combine(this.Directory, relative);
            string target = Path.Combine(targetDirectory, relative);
            if (File.Exists(source))
            {
                System.IO.Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(source, target);
                continue;
            }

            foreach (string file in System.IO.Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
            {
                string destination = Path.Combine(target, Path.GetRelativePath(source, file));
                System.IO.Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
                File.Copy(file, destination);
            }
        }
    }

    // A module at the repository's root keeps its files among the Transformer's; only sub-folders are carried whole.
    private static void AddFolder(List<string> files, string relative)
    {
        if (relative.Length > 0)
        {
            files.Add(relative);
        }
    }

    private static (int? MaxLength, bool LowerCase, string? FileName) ReadTransformer(string folder)
    {
        string? name = s_transformerConfigNames.FirstOrDefault(n => File.Exists(Path.Combine(folder, n)));
        if (name is null)
        {
            return (null, false, null);
        }

        string path = Path.Combine(folder, name);
        var config = ConfigFile.Read(path, required: true, "the Transformer module's config")!.Value;
        if (config.GetString("transformer_task") is { } task && task != "feature-extraction")
        {
            throw new ModelFileException(path, $"field 'transformer_task' is \"{task}\"; expected \"feature-extraction\" (token states pooled into one vector).");
        }

        if (config.TryGetProperty("modality_config", out var modalities) && modalities.ValueKind == JsonValueKind.Object)
        {
            foreach (var modality in modalities.EnumerateObject())
            {
                bool plainText = modality.Name == "text" && modality.Value.GetString("method") is null or "forward"
                    && modality.Value.GetString("method_output_name") is null or "last_hidden_state";
                if (!plainText)
                {
                    // "message" makes sentence-transformers render every text through the chat template first.
                    throw new ModelFileException(path, $"field 'modality_config' has \"{modality.Name}\"; expected only \"text\" through the model's forward (chat-template inputs are not supported).");
                }
            }
        }

        if (config.GetString("module_output_name") is { } output && output != "token_embeddings")
        {
            throw new ModelFileException(path, $"field 'module_output_name' is \"{output}\"; expected \"token_embeddings\".");
        }

        int? maxLength = config.GetInt32("max_seq_length");
        if (config.TryGetProperty("max_seq_length", out var raw) && raw.ValueKind != JsonValueKind.Null && maxLength is not > 0)
        {
            throw new ModelFileException(path, $"field 'max_seq_length' is {raw.GetRawText()}; expected a positive integer.");
        }

        return (maxLength, config.GetBoolean("do_lower_case") ?? false, name);
    }

    private static PoolingModule ReadPooling(string path, int? hiddenSize)
    {
        var config = ConfigFile.Read(path, required: true, "the Pooling module's config.json named by modules.json")!.Value;
        int? dimension = config.GetInt32("embedding_dimension") ?? config.GetInt32("word_embedding_dimension");
        if (dimension is int d && hiddenSize is int hidden && d != hidden)
        {
            string field = config.GetInt32("embedding_dimension") is null ? "word_embedding_dimension" : "embedding_dimension";
            throw new ModelFileException(path, $"field '{field}' is {d}; expected the encoder's hidden_size {hidden}.");
        }

        var modes = new List<PoolingMode>();
        if (config.TryGetProperty("pooling_mode", out var named) && named.ValueKind != JsonValueKind.Null)
        {
            var names = named.ValueKind == JsonValueKind.Array ? named.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText()).ToList()
                : named.ValueKind == JsonValueKind.String ? [named.GetString()!]
                : [named.GetRawText()];
            foreach (string name in names)
            {
                modes.Add(name switch
                {
                    "cls" => PoolingMode.Cls,
                    "max" => PoolingMode.Max,
                    "mean" => PoolingMode.Mean,
                    "mean_sqrt_len_tokens" => PoolingMode.MeanSqrtLength,
                    "weightedmean" => PoolingMode.WeightedMean,
                    "lasttoken" => PoolingMode.LastToken,
                    _ => throw new ModelFileException(path, $"field 'pooling_mode' has \"{name}\"; expected cls, max, mean, mean_sqrt_len_tokens, weightedmean or lasttoken."),
                });
            }

            if (modes.Count == 0)
            {
                throw new ModelFileException(path, "field 'pooling_mode' is an empty list; expected at least one mode.");
            }
        }
        else
        {
            // The legacy flags, in sentence-transformers' fixed order; none set means mean.
            foreach (var (flag, mode) in new[]
            {
                ("pooling_mode_cls_token", PoolingMode.Cls), ("pooling_mode_max_tokens", PoolingMode.Max), ("pooling_mode_mean_tokens", PoolingMode.Mean),
                ("pooling_mode_mean_sqrt_len_tokens", PoolingMode.MeanSqrtLength), ("pooling_mode_weightedmean_tokens", PoolingMode.WeightedMean), ("pooling_mode_lasttoken", PoolingMode.LastToken),
            })
            {
                if (config.GetBoolean(flag) == true)
                {
                    modes.Add(mode);
                }
            }

            if (modes.Count == 0)
            {
                modes.Add(PoolingMode.Mean);
            }
        }

        return new PoolingModule(modes, config.GetBoolean("include_prompt") ?? true);
    }

    private static DenseModule ReadDense(string folder, int pooledWidth)
    {
        string path = Path.Combine(folder, "config.json");
        var config = ConfigFile.Read(path, required: true, "the Dense module's config.json named by modules.json")!.Value;
        int inFeatures = config.GetInt32("in_features") is > 0 and int i ? i : throw new ModelFileException(path, "field 'in_features' is missing or not a positive integer; expected the width of the vector the module takes.");
        int outFeatures = config.GetInt32("out_features") is > 0 and int o ? o : throw new ModelFileException(path, "field 'out_features' is missing or not a positive integer; expected the width of the vector the module makes.");
        if (pooledWidth > 0 && inFeatures != pooledWidth)
        {
            throw new ModelFileException(path, $"field 'in_features' is {inFeatures}; expected {pooledWidth}, the width of the vector before this module.");
        }

        if (config.GetBoolean("use_residual") == true)
        {
            throw new ModelFileException(path, "field 'use_residual' is true; expected false (residual Dense modules are not supported).");
        }

        CheckSentenceEmbeddingNames(path);
        string? activationName = config.TryGetProperty("activation_function", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
        var activation = activationName switch
        {
            // Absent means what sentence-transformers' Dense defaults to.
            null or "torch.nn.modules.activation.Tanh" or "torch.nn.Tanh" => DenseActivation.Tanh,
            "torch.nn.modules.linear.Identity" or "torch.nn.Identity" => DenseActivation.Identity,
            "torch.nn.modules.activation.ReLU" or "torch.nn.ReLU" => DenseActivation.Relu,
            "torch.nn.modules.activation.Sigmoid" or "torch.nn.Sigmoid" => DenseActivation.Sigmoid,
            "torch.nn.modules.activation.GELU" or "torch.nn.GELU" => DenseActivation.Gelu,
            _ => throw new ModelFileException(path, $"field 'activation_function' is \"{activationName}\"; expected torch.nn Identity, Tanh, ReLU, Sigmoid or GELU."),
        };

        var module = new DenseModule(folder, inFeatures, outFeatures, config.GetBoolean("bias") ?? true, activation);
        if (!File.Exists(module.WeightsPath))
        {
            string pickle = Path.Combine(folder, "pytorch_model.bin");
            throw File.Exists(pickle)
                ? new ModelFileException(pickle, $"holds the Dense weights as a pickle, which is not read; expected {DenseModule.WeightsFileName} (save the model again with safetensors).")
                : new ModelFileException(folder, $"has neither {DenseModule.WeightsFileName} nor pytorch_model.bin; expected the Dense module's weights (linear.weight).");
        }

        return module;
    }

    private static void CheckSentenceEmbeddingNames(string configPath)
    {
        if (ConfigFile.Read(configPath, required: false, "a module's config.json") is not { } config)
        {
            return;
        }

        foreach (string field in new[] { "module_input_name", "module_output_name" })
        {
            if (config.GetString(field) is { } name && name != "sentence_embedding")
            {
                throw new ModelFileException(configPath, $"field '{field}' is \"{name}\"; expected \"sentence_embedding\".");
            }
        }
    }
}
