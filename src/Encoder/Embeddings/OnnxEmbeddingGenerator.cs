using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Numerics.Tensors;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.Tokenizers;
using T5Gemma2.Rag.Encoder.Images;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Onnx;
using T5Gemma2.Rag.Encoder.Tokenization;
using T5Gemma2.Rag.Encoder.Vision;

namespace T5Gemma2.Rag.Encoder.Embeddings;

/// <summary>
/// Embeddings from an encoder run by ONNX Runtime: the T5Gemma 2 encoder or a BERT-family sentence-transformers model,
/// chosen by the model directory's own files. Inputs are batched by a token budget after sorting by length, pooled
/// over the attention mask, and optionally L2-normalized.
/// </summary>
/// <remarks>
/// <para>Safe for concurrent callers: the session is shared and ONNX Runtime runs are thread-safe; all other state is per call.</para>
/// <para>Bad input: a null entry throws <see cref="ArgumentException"/> naming its index; an empty or whitespace-only
/// string is embedded as the model's special tokens alone (a valid vector, as sentence-transformers does), or as the
/// zero vector when the model adds no special tokens and so sees nothing; text past
/// the maximum length is truncated and counted in <c>AdditionalProperties["truncated_inputs"]</c>; lone surrogates are
/// read as U+FFFD; an empty batch returns no embeddings without running the model; cancellation stops between batches
/// and interrupts a run in progress.</para>
/// <para>Images (<see cref="DataContent"/> with an image/* media type) are embedded in the same space as text: each
/// becomes the processor's image block between the text path's special tokens (bos, "\n\n", begin-of-image, the image
/// soft tokens, end-of-image, "\n\n", and eos when the text path appends it), its soft tokens filled by the vision
/// graph's features, and is pooled, Dense-projected and normalised as text is. The vision graph is opened on the first
/// image; a text-only model refuses images with <see cref="ImagesNotSupportedException"/>.</para>
/// </remarks>
public sealed class OnnxEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>, IEmbeddingGenerator<DataContent, Embedding<float>>
{
    /// <summary>The <see cref="GeneratedEmbeddings{TEmbedding}.AdditionalProperties"/> key with the number of inputs that were truncated.</summary>
    public const string TruncatedInputsKey = "truncated_inputs";

    /// <summary>The <see cref="GeneratedEmbeddings{TEmbedding}.AdditionalProperties"/> key with the milliseconds the ONNX runs took.</summary>
    public const string EncoderMillisecondsKey = "encoder_ms";

    /// <summary>
    /// The <see cref="GeneratedEmbeddings{TEmbedding}.AdditionalProperties"/> key with the milliseconds spent after the ONNX
    /// runs, in Pooling, Dense, Normalize and the Matryoshka cut (what <c>bench encoder</c> sets beside the encoder's time).
    /// </summary>
    public const string ModulesMillisecondsKey = "modules_ms";

    // Every token the model reads, queries and passages alike: what embedding costs.
    private static readonly Counter<long> s_tokens = T5RagTelemetry.Meter.CreateCounter<long>("t5rag.embedding.tokens", "{token}", "Tokens the embedding model read (queries, passages, image blocks)");

    private static readonly HashSet<string> s_knownInputs =
        [EncoderGraphNames.InputIds, EncoderGraphNames.AttentionMask, EncoderGraphNames.TokenTypeIds, EncoderGraphNames.ImageFeatures];

    private readonly SharedSession _encoder;
    private readonly EncoderInputTokenizer _input;
    private readonly OnnxEmbeddingGeneratorOptions _options;
    private readonly ILogger _logger;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames = [EncoderGraphNames.LastHiddenState];
    private readonly EmbeddingGeneratorMetadata _metadata;
    private readonly int _maxLength;
    private readonly SentenceEmbeddingPipeline _pipeline;
    private readonly ConcurrentDictionary<string, int> _promptLengths = new(StringComparer.Ordinal);
    private readonly int _hidden;
    private readonly Lock _visionLock = new();
    private VisionEncoder? _vision;
    private ImagePreprocessor? _preprocessor;
    private int _warnedDimensions;
    private volatile bool _disposed;

    private OnnxEmbeddingGenerator(ModelDirectory model, EncoderInputTokenizer input, SharedSession encoder, OnnxEmbeddingGeneratorOptions options, ILogger logger)
    {
        var session = encoder.Session;
        this.Model = model;
        this._input = input;
        this._encoder = encoder;
        this._options = options;
        this._logger = logger;
        this._inputNames = [.. session.InputMetadata.Keys];
        this._maxLength = Math.Min(options.MaxLength ?? model.MaxLength, model.MaxLength);
        this._hidden = CheckGraph(model, session);
        this._pipeline = SentenceEmbeddingPipeline.For(model, options.Pooling, options.Normalize, this._hidden);
        this.FullDimensions = this._pipeline.OutputWidth;
        this.Dimensions = this.CheckDimensions(options.Dimensions ?? model.Prompts.TruncateDimension ?? this.FullDimensions);
        this._metadata = new EmbeddingGeneratorMetadata("onnxruntime", new Uri(model.Path + Path.DirectorySeparatorChar), model.ModelId, this.Dimensions);
    }

    /// <summary>The model directory the generator was made from.</summary>
    public ModelDirectory Model { get; }

    /// <summary>The encoder session it runs (shared with a generator's when made by one).</summary>
    internal InferenceSession EncoderSession => this._encoder.Session;

    /// <summary>The length of the vectors a call makes by default: <see cref="OnnxEmbeddingGeneratorOptions.Dimensions"/>, else <see cref="FullDimensions"/>; <see cref="EmbeddingGenerationOptions.Dimensions"/> asks per call.</summary>
    public int Dimensions { get; }

    /// <summary>The model's own vector length (after its Dense modules), before any Matryoshka cut.</summary>
    public int FullDimensions { get; }

    /// <summary>The most tokens an input keeps (special tokens included); longer inputs are truncated.</summary>
    public int MaxLength => this._maxLength;

    /// <summary>The model's tokenizer, for counting and cutting text the way the model sees it.</summary>
    public Tokenizer Tokenizer => this._input.Tokenizer;

    /// <summary>
    /// Opens a model directory and creates its ONNX Runtime session.
    /// </summary>
    /// <exception cref="ModelFileException">A file of the directory is missing or corrupt, or the graph's inputs and outputs are not those of an encoder.</exception>
    /// <exception cref="ExecutionProviderUnavailableException">CUDA was asked for and is not available.</exception>
    public static OnnxEmbeddingGenerator Create(string modelDirectory, OnnxEmbeddingGeneratorOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        options = Checked(options);
        var model = ModelDirectory.Open(modelDirectory);
        var encoder = new SharedSession(OnnxSessionFactory.Create(model.EncoderGraphPath, options.Session));
        try
        {
            return Create(model, encoder, options, loggerFactory);
        }
        finally
        {
            encoder.Release(); // the generator holds its own ownership now, or none when it could not be made
        }
    }

    /// <summary>A generator over an encoder session that another owner shares (a <see cref="Generation.Seq2SeqGenerator"/>'s); it takes one ownership and gives it back in <see cref="Dispose"/>.</summary>
    internal static OnnxEmbeddingGenerator Create(ModelDirectory model, SharedSession encoder, OnnxEmbeddingGeneratorOptions? options, ILoggerFactory? loggerFactory)
    {
        options = Checked(options);
        encoder.Acquire();
        try
        {
            var input = EncoderInputTokenizer.Create(model);
            var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<OnnxEmbeddingGenerator>();
            var generator = new OnnxEmbeddingGenerator(model, input, encoder, options, logger);
            logger.ModelLoaded(model.ModelId, model.Kind, generator.Dimensions, generator._maxLength, model.Path);
            if (model.ConfiguredMaxLength > model.MaxLength)
            {
                logger.MaxLengthCapped(model.ModelId, model.ConfiguredMaxLength, model.MaxLength);
            }

            return generator;
        }
        catch
        {
            encoder.Release();
            throw;
        }
    }

    private static OnnxEmbeddingGeneratorOptions Checked(OnnxEmbeddingGeneratorOptions? options)
    {
        options ??= OnnxEmbeddingGeneratorOptions.Default;
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxBatchSize, 1, "options.MaxBatchSize");
        ArgumentOutOfRangeException.ThrowIfLessThan(options.EffectiveMaxBatchTokens, 1, "options.MaxBatchTokens");
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxLength ?? 1, 1, "options.MaxLength");
        return options;
    }

    /// <inheritdoc />
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        AsTask(() => this.Generate(values, options, cancellationToken), cancellationToken);

    /// <summary>Embeds images (<see cref="DataContent"/> with an image/* media type) in the text embeddings' space.</summary>
    /// <exception cref="ImagesNotSupportedException">The model has no vision graph.</exception>
    /// <exception cref="ImageFileException">A value is not an image, or cannot be decoded; the message names it.</exception>
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<DataContent> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        AsTask(() => this.GenerateImages(values, options, cancellationToken), cancellationToken);

    /// <summary>The work runs synchronously (ONNX Runtime blocks); its outcome, cancellation included, as a completed task.</summary>
    private static Task<GeneratedEmbeddings<Embedding<float>>> AsTask(Func<GeneratedEmbeddings<Embedding<float>>> generate, CancellationToken cancellationToken)
    {
        try
        {
            return Task.FromResult(generate());
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<GeneratedEmbeddings<Embedding<float>>>(cancellationToken);
        }
        catch (Exception ex)
        {
            return Task.FromException<GeneratedEmbeddings<Embedding<float>>>(ex);
        }
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(EmbeddingGeneratorMetadata) ? this._metadata
            : serviceType == typeof(ModelDirectory) ? this.Model
            : serviceType.IsInstanceOfType(this) ? this
            : serviceType.IsInstanceOfType(this._input.Tokenizer) ? this._input.Tokenizer
            : null;
    }

    /// <inheritdoc />
    /// <remarks>Calls still running when the generator is disposed may fail; dispose only once callers are done.</remarks>
    public void Dispose()
    {
        if (this._disposed)
        {
            return;
        }

        this._disposed = true;
        this._encoder.Release();
        lock (this._visionLock)
        {
            this._vision?.Dispose();
            this._vision = null;
        }
    }

    private GeneratedEmbeddings<Embedding<float>> Generate(IEnumerable<string> values, EmbeddingGenerationOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(values);
        using var activity = T5RagTelemetry.Source.StartActivity("embed");
        ObjectDisposedException.ThrowIf(this._disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        var texts = values as IReadOnlyList<string> ?? [.. values];
        var (dimensions, prefix, skipped) = this.CallSettings(options);
        var ids = new int[texts.Count][];
        int truncated = 0;
        long tokenCount = 0;
        for (int i = 0; i < texts.Count; i++)
        {
            string text = texts[i] ?? throw new ArgumentException($"values[{i}] is null; expected a string (an empty one is allowed).", nameof(values));
            ids[i] = this._input.Encode(prefix.Length == 0 ? text : prefix + text, this._maxLength, out bool cut);
            truncated += cut ? 1 : 0;
            tokenCount += ids[i].Length;
        }

        long started = Stopwatch.GetTimestamp();
        var vectors = new float[texts.Count][];
        var batches = TokenBudgetBatcher.Plan([.. ids.Select(x => x.Length)], this._options.EffectiveMaxBatchTokens, this._options.MaxBatchSize, this._options.SortByLength);
        var timings = new BatchTimings();
        foreach (int[] batch in batches)
        {
            cancellationToken.ThrowIfCancellationRequested();
            this.RunBatch(batch, ids, vectors, dimensions, skipped, null, timings, cancellationToken);
        }

        if (truncated > 0)
        {
            this._logger.InputsTruncated(truncated, texts.Count, this._maxLength);
        }

        this._logger.Embedded(texts.Count, tokenCount, batches.Count, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return this.Result(vectors, tokenCount, truncated, timings, activity);
    }

    private GeneratedEmbeddings<Embedding<float>> GenerateImages(IEnumerable<DataContent> values, EmbeddingGenerationOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(values);
        using var activity = T5RagTelemetry.Source.StartActivity("embed");
        ObjectDisposedException.ThrowIf(this._disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        var vision = this.Model.RequireVision();
        if (!this._inputNames.Contains(EncoderGraphNames.ImageFeatures))
        {
            throw new ModelFileException(this.Model.EncoderGraphPath, $"graph inputs are [{string.Join(", ", this._inputNames)}]; expected {EncoderGraphNames.ImageFeatures} beside the vision graph.");
        }

        var images = values as IReadOnlyList<DataContent> ?? [.. values];
        var (dimensions, prefix, skipped) = this.CallSettings(options);

        // Every image has the same ids (the prompt, one image block, the end), so one list serves them all.
        var builder = ImagePromptBuilder.Create((GemmaTokenizer)this._input.Tokenizer, vision);
        int[] imageIds = builder.AddText(prefix).AddImage().Build(addEndOfSentence: ((GemmaTokenizer)this._input.Tokenizer).AppendedEndId is not null);
        if (imageIds.Length > this._maxLength)
        {
            throw new ArgumentException($"an image takes {imageIds.Length} tokens with the prompt; the model's input holds {this._maxLength}.", nameof(values));
        }

        var pixels = new PixelValues[images.Count];
        for (int i = 0; i < images.Count; i++)
        {
            var image = images[i] ?? throw new ArgumentException($"values[{i}] is null; expected a DataContent image.", nameof(values));
            string name = image.Name ?? $"values[{i}]";
            if (!image.HasTopLevelMediaType("image"))
            {
                throw new ImageFileException(name, $"has media type {image.MediaType}; expected an image (image/png, image/jpeg, image/webp, image/gif, image/bmp).");
            }

            pixels[i] = this.Preprocessor(vision).Decode(image.Data.Span, name);
        }

        long started = Stopwatch.GetTimestamp();
        var ids = Enumerable.Repeat(imageIds, images.Count).ToArray();
        var vectors = new float[images.Count][];
        var batches = TokenBudgetBatcher.Plan([.. ids.Select(x => x.Length)], this._options.EffectiveMaxBatchTokens, this._options.MaxBatchSize, sortByLength: false);
        var timings = new BatchTimings();
        var tower = this.Vision();
        foreach (int[] batch in batches)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // One tower run per batch: its features fill the batch's soft tokens row by row, in the batch's order.
            long towerStarted = Stopwatch.GetTimestamp();
            float[] features = tower.Encode(PixelValues.Concatenate([.. batch.Select(i => pixels[i])]), batch.Length, cancellationToken);
            timings.Encoder += Stopwatch.GetElapsedTime(towerStarted);
            this.RunBatch(batch, ids, vectors, dimensions, skipped, features, timings, cancellationToken);
        }

        long tokenCount = (long)imageIds.Length * images.Count;
        this._logger.Embedded(images.Count, tokenCount, batches.Count, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return this.Result(vectors, tokenCount, truncated: 0, timings, activity);
    }

    private ImagePreprocessor Preprocessor(VisionConfig vision) => this._preprocessor ??= ImagePreprocessor.Create(new ImagePreprocessorOptions(vision.ImageSize));

    /// <summary>The vision graph, opened on the first image.</summary>
    private VisionEncoder Vision()
    {
        lock (this._visionLock)
        {
            ObjectDisposedException.ThrowIf(this._disposed, this);
            return this._vision ??= VisionEncoder.Open(this.Model, this._options.Session);
        }
    }

    /// <summary>One call's vector length, prompt and the prompt positions pooling leaves out.</summary>
    private (int Dimensions, string Prefix, int Skipped) CallSettings(EmbeddingGenerationOptions? options)
    {
        int dimensions = options?.Dimensions is int asked ? this.CheckDimensions(asked) : this.Dimensions;
        string prefix = options.GetPromptName() is { } promptName ? this.Model.Prompts.Named(promptName)
            : options.GetInputKind() == EmbeddingInputKind.Query ? this.Model.QueryPrefix
            : this.Model.PassagePrefix;
        int skipped = this._pipeline.ExcludesPrompt && prefix.Length > 0 ? this.PromptLength(prefix) : 0;
        return (dimensions, prefix, skipped);
    }

    private GeneratedEmbeddings<Embedding<float>> Result(float[][] vectors, long tokenCount, int truncated, BatchTimings timings, Activity? activity)
    {
        s_tokens.Add(tokenCount);
        activity?.SetTag("t5rag.embedding.inputs", vectors.Length).SetTag("t5rag.embedding.tokens", tokenCount);
        var result = new GeneratedEmbeddings<Embedding<float>>(vectors.Select(v => new Embedding<float>(v) { ModelId = this.Model.ModelId, CreatedAt = DateTimeOffset.UtcNow }))
        {
            Usage = new UsageDetails { InputTokenCount = tokenCount, TotalTokenCount = tokenCount },
            AdditionalProperties = new AdditionalPropertiesDictionary
            {
                [TruncatedInputsKey] = truncated,
                [EncoderMillisecondsKey] = timings.Encoder.TotalMilliseconds,
                [ModulesMillisecondsKey] = timings.Modules.TotalMilliseconds,
            },
        };
        return result;
    }

    /// <summary>Checks a requested vector length against the model's; a cut the model lists no Matryoshka dimensions for is warned about once.</summary>
    private int CheckDimensions(int dimensions)
    {
        var listed = this.Model.MatryoshkaDimensions;
        int width = this.FullDimensions;
        if (dimensions < 1 || dimensions > width)
        {
            throw new EmbeddingDimensionsException(this.Model.ModelId, dimensions, $"expected 1 to {width}, the model's width{(listed.Count > 0 ? $" (its Matryoshka dimensions: {string.Join(", ", listed)})" : "")}");
        }

        if (dimensions < width && listed.Count > 0 && !listed.Contains(dimensions))
        {
            throw new EmbeddingDimensionsException(this.Model.ModelId, dimensions, $"expected one of its Matryoshka dimensions {string.Join(", ", listed)} (other cuts were never trained)");
        }

        if (dimensions < width && listed.Count == 0 && Interlocked.Exchange(ref this._warnedDimensions, 1) == 0)
        {
            this._logger.DimensionsNotListed(this.Model.ModelId, dimensions, width);
        }

        return dimensions;
    }

    /// <summary>
    /// How many leading positions a prompt takes, as sentence-transformers counts them for include_prompt false: the
    /// prompt tokenized alone with the model's special tokens, less a trailing special token.
    /// </summary>
    private int PromptLength(string prompt) => this._promptLengths.GetOrAdd(prompt, p =>
    {
        int[] ids = this._input.Encode(p, this._maxLength, out _);
        return ids.Length > 0 && this._input.IsSpecial(ids[^1]) ? ids.Length - 1 : ids.Length;
    });

    /// <param name="imageFeatures">The vision graph's features for the batch's image soft tokens, in order; null for text.</param>
    private void RunBatch(int[] batch, int[][] ids, float[][] vectors, int dimensions, int skipped, float[]? imageFeatures, BatchTimings timings, CancellationToken cancellationToken)
    {
        int count = batch.Length;
        int length = batch.Max(i => ids[i].Length);
        if (length == 0)
        {
            // Only inputs with no tokens at all (empty text, no bos): nothing to run, and no state to pool.
            foreach (int index in batch)
            {
                vectors[index] = new float[dimensions];
            }

            return;
        }

        long[] inputIds = new long[count * length];
        long[] attentionMask = new long[count * length];
        Array.Fill(inputIds, this._input.PaddingId);
        for (int row = 0; row < count; row++)
        {
            int[] source = ids[batch[row]];
            for (int t = 0; t < source.Length; t++)
            {
                inputIds[row * length + t] = source[t];
                attentionMask[row * length + t] = 1;
            }
        }

        long[] shape = [count, length];
        var inputs = new List<OrtValue>(this._inputNames.Length);
        try
        {
            foreach (string name in this._inputNames)
            {
                inputs.Add(name switch
                {
                    EncoderGraphNames.InputIds => OrtValue.CreateTensorValueFromMemory(inputIds, shape),
                    EncoderGraphNames.AttentionMask => OrtValue.CreateTensorValueFromMemory(attentionMask, shape),
                    EncoderGraphNames.TokenTypeIds => OrtValue.CreateTensorValueFromMemory(new long[count * length], shape),
                    _ => OrtValue.CreateTensorValueFromMemory(imageFeatures ?? [], [(imageFeatures?.Length ?? 0) / this._hidden, this._hidden]), // image_features: none for text
                });
            }

            using var runOptions = new RunOptions();
            using var registration = cancellationToken.Register(static state => ((RunOptions)state!).Terminate = true, runOptions);
            IDisposableReadOnlyCollection<OrtValue> outputs;
            long runStarted = Stopwatch.GetTimestamp();
            try
            {
                outputs = this._encoder.Session.Run(runOptions, this._inputNames, inputs, this._outputNames);
                timings.Encoder += Stopwatch.GetElapsedTime(runStarted);
            }
            catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }

            using (outputs)
            {
                long modulesStarted = Stopwatch.GetTimestamp();
                int[] tokens = [.. batch.Select(i => ids[i].Length)];
                var embedded = this._pipeline.Embed(outputs[0].GetTensorDataAsSpan<float>(), length, tokens, skipped, dimensions);
                for (int row = 0; row < count; row++)
                {
                    vectors[batch[row]] = embedded[row];
                }

                timings.Modules += Stopwatch.GetElapsedTime(modulesStarted);
            }
        }
        finally
        {
            foreach (var value in inputs)
            {
                value.Dispose();
            }
        }
    }

    /// <summary>Checks the graph is an encoder this class can feed, and returns the width of its states.</summary>
    private static int CheckGraph(ModelDirectory model, InferenceSession session)
    {
        var inputs = session.InputMetadata;
        string found = string.Join(", ", inputs.Keys);
        foreach (string required in new[] { EncoderGraphNames.InputIds, EncoderGraphNames.AttentionMask })
        {
            if (!inputs.TryGetValue(required, out var metadata) || metadata.ElementDataType != TensorElementType.Int64 || metadata.Dimensions.Length != 2)
            {
                throw new ModelFileException(model.EncoderGraphPath, $"graph inputs are [{found}]; expected {required} as int64 [batch, sequence].");
            }
        }

        foreach (string name in inputs.Keys)
        {
            if (!s_knownInputs.Contains(name))
            {
                throw new ModelFileException(model.EncoderGraphPath, $"graph input '{name}' is not one an encoder takes; expected only {string.Join(", ", s_knownInputs)}.");
            }
        }

        if (!session.OutputMetadata.TryGetValue(EncoderGraphNames.LastHiddenState, out var output) || output.ElementDataType != TensorElementType.Float || output.Dimensions.Length != 3)
        {
            throw new ModelFileException(model.EncoderGraphPath, $"graph outputs are [{string.Join(", ", session.OutputMetadata.Keys)}]; expected {EncoderGraphNames.LastHiddenState} as float32 [batch, sequence, hidden].");
        }

        int hidden = output.Dimensions[2] > 0 ? output.Dimensions[2] : model.HiddenSize ?? 0;
        if (hidden <= 0)
        {
            throw new ModelFileException(model.EncoderGraphPath, $"the width of {EncoderGraphNames.LastHiddenState} is not fixed in the graph and config.json has no hidden_size; expected one of them to give it.");
        }

        if (model.HiddenSize is int configured && configured != hidden)
        {
            throw new ModelFileException(model.EncoderGraphPath, $"{EncoderGraphNames.LastHiddenState} is {hidden} wide but config.json says hidden_size {configured}; expected the graph and config of one model.");
        }

        return hidden;
    }

    /// <summary>Where one call's time went: the ONNX runs, and the modules after them.</summary>
    private sealed class BatchTimings
    {
        public TimeSpan Encoder { get; set; }

        public TimeSpan Modules { get; set; }
    }
}
