using Microsoft.ML.OnnxRuntime;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Onnx;
using T5Gemma2.Rag.Encoder.Images;
using T5Gemma2.Rag.Encoder.Tokenization;
using T5Gemma2.Rag.Encoder.Vision;

namespace T5Gemma2.Rag.Encoder.Generation;

/// <summary>
/// A converted T5Gemma 2 model loaded for generation: its directory, config and tokenizer, and the three sessions of
/// its graphs (the encoder, shared with embedding generators; the cross-cache graph; the decoder step), each checked
/// against what this runtime feeds before any generation runs.
/// </summary>
internal sealed class Seq2SeqModel : IDisposable
{
    private readonly Lazy<VisionEncoder>? _vision;

    private Seq2SeqModel(ModelDirectory model, T5Gemma2Config config, GemmaTokenizer tokenizer, SharedSession encoder, InferenceSession crossCache, InferenceSession step, OnnxSessionOptions sessionOptions)
    {
        // The tower is opened on the first image: a text-only user of a multimodal model never pays for its weights.
        this._vision = model.Vision is null ? null : new Lazy<VisionEncoder>(() => VisionEncoder.Open(model, sessionOptions), LazyThreadSafetyMode.ExecutionAndPublication);
        this.Model = model;
        this.Config = config;
        this.Decoder = config.Decoder!;
        this.Tokenizer = tokenizer;
        this.Encoder = encoder;
        this.CrossCache = crossCache;
        this.Step = step;
        this.CrossCacheOutputs = [.. Enumerable.Range(0, this.Decoder.NumLayers).SelectMany(i => new[] { DecoderGraphNames.CacheKey(i), DecoderGraphNames.CacheValueTransposed(i) })];
    }

    public ModelDirectory Model { get; }

    public T5Gemma2Config Config { get; }

    public T5Gemma2StackConfig Decoder { get; }

    public GemmaTokenizer Tokenizer { get; }

    public SharedSession Encoder { get; }

    public InferenceSession CrossCache { get; }

    public InferenceSession Step { get; }

    /// <summary>Every layer's merged key and value cache, the cross-cache graph's outputs in order.</summary>
    public string[] CrossCacheOutputs { get; }

    /// <summary>Opens a converted model directory with decoder graphs.</summary>
    /// <exception cref="ModelFileException">The directory is not a converted T5Gemma 2 model, or it has no decoder graphs (an encoder-only conversion).</exception>
    public static Seq2SeqModel Open(string modelDirectory, OnnxSessionOptions sessionOptions)
    {
        var model = ModelDirectory.Open(modelDirectory);
        if (model.Kind != ModelKind.T5Gemma2)
        {
            throw new ModelFileException(model.Path, $"is a {model.Kind} model; expected a T5Gemma 2 conversion (t5rag model convert) to generate text.");
        }

        if (ReadWeightFormat(model) == "int8")
        {
            throw new ModelFileException(model.Path, $"has int8 weights, which do not generate: {DecoderGraphNames.Int8GenerationRefusal}.");
        }

        string step = Path.Combine(model.Path, DecoderGraphNames.StepFile);
        if (!File.Exists(step))
        {
            throw new ModelFileException(step, "not found; expected the decoder graphs of an encoder-decoder conversion (this directory holds an encoder only).");
        }

        var config = T5Gemma2Config.Read(Path.Combine(model.Path, "config.json"));
        if (config.Decoder is null)
        {
            throw new ModelFileException(config.FilePath, "has no decoder section; expected an encoder-decoder T5Gemma 2 config.");
        }

        var tokenizer = (GemmaTokenizer)model.CreateTokenizer();
        var sessions = new List<InferenceSession>();
        OrtValue? embedding = null;
        SharedSession? encoder = null;
        try
        {
            // The tied embedding is read once and given to both sessions that use it, instead of each loading its own.
            embedding = LoadSharedEmbedding(model, config);
            void Share(SessionOptions options)
            {
                if (embedding is not null)
                {
                    options.AddInitializer(EncoderGraphNames.EmbeddingTable, embedding);
                }
            }

            // The table outlives every session that reads it: it goes with the encoder's last owner (this model,
            // or an embedding generator over the same encoder), and Dispose closes the step session before that.
            encoder = new SharedSession(OnnxSessionFactory.Create(model.EncoderGraphPath, sessionOptions, Share), embedding);
            sessions.Add(OnnxSessionFactory.Create(Path.Combine(model.Path, DecoderGraphNames.CrossCacheFile), sessionOptions));
            bool fp32Logits = ReadWeightFormat(model) == "fp32";
            sessions.Add(OnnxSessionFactory.Create(step, sessionOptions, options =>
            {
                Share(options);
                if (fp32Logits)
                {
                    // Pre-packing would copy the 262,144-row table for the logits' Gemm; at one row per step it buys
                    // nothing. Quantized layers need it (MatMulNBits packs its weights), so it stays on for them.
                    options.AddSessionConfigEntry("session.disable_prepacking", "1");
                }
            }));
            CheckCacheLayout(step, sessions[1]);

            return new Seq2SeqModel(model, config, tokenizer, encoder, sessions[0], sessions[1], sessionOptions);
        }
        catch
        {
            sessions.ForEach(s => s.Dispose());
            if (encoder is not null)
            {
                encoder.Release();
            }
            else
            {
                embedding?.Dispose();
            }

            throw;
        }
    }

    /// <summary>
    /// The encoder graph's <c>image_features</c> for a batch: each row's images through the vision tower (an input that
    /// appears in several rows, as beams do, is encoded once), laid out row by row. Checks that each row's image soft
    /// tokens and images agree, so a mismatch is named here instead of failing inside the encoder's scatter.
    /// </summary>
    /// <exception cref="ImagesNotSupportedException">An input has images and the model is text-only.</exception>
    public float[] ImageFeatures(EncoderInput[] inputs, CancellationToken cancellationToken)
    {
        var vision = this.Model.Vision;
        for (int b = 0; b < inputs.Length; b++)
        {
            if (inputs[b].Images.Count > 0)
            {
                vision = this.Model.RequireVision();
            }

            int softTokens = vision is null ? 0 : inputs[b].Ids.Count(id => id == vision.ImageTokenId);
            if (vision is not null && softTokens != inputs[b].Images.Count * vision.TokensPerImage)
            {
                throw new ArgumentException($"input {b} has {softTokens} image soft tokens (id {vision.ImageTokenId}) and {inputs[b].Images.Count} image(s); expected {vision.TokensPerImage} soft tokens per image (build the ids with ImagePromptBuilder).", nameof(inputs));
            }
        }

        if (vision is null || inputs.All(input => input.Images.Count == 0))
        {
            return [];
        }

        var encoded = new Dictionary<EncoderInput, float[]>(ReferenceEqualityComparer.Instance);
        var rows = new List<float[]>(inputs.Length);
        foreach (var input in inputs)
        {
            if (!encoded.TryGetValue(input, out var features))
            {
                features = this._vision!.Value.Encode(PixelValues.Concatenate(input.Images), input.Images.Count, cancellationToken);
                encoded[input] = features;
            }

            rows.Add(features);
        }

        return [.. rows.SelectMany(row => row)];
    }

    /// <summary>Releases the sessions; only once no run uses them.</summary>
    public void Dispose()
    {
        if (this._vision is { IsValueCreated: true })
        {
            this._vision.Value.Dispose();
        }

        this.CrossCache.Dispose();
        this.Step.Dispose();
        this.Encoder.Release();
    }

    /// <summary>
    /// Checks the decoder graphs are the merged-cache layout this runtime feeds; conversions made before it (separate
    /// self and cross caches) are named, with what to do.
    /// </summary>
    private static void CheckCacheLayout(string stepPath, InferenceSession step)
    {
        if (step.InputMetadata.ContainsKey(DecoderGraphNames.SeparateCachesInput))
        {
            throw new ModelFileException(stepPath, "was converted by an earlier t5rag (separate self and cross caches); expected the merged-cache decoder: convert the checkpoint again with t5rag model convert.");
        }

        foreach (string input in new[] { DecoderGraphNames.InputIds, DecoderGraphNames.EncoderAttentionMask, DecoderGraphNames.PastSequenceLength, DecoderGraphNames.CacheKey(0), DecoderGraphNames.CacheValueTransposed(0) })
        {
            if (!step.InputMetadata.ContainsKey(input))
            {
                throw new ModelFileException(stepPath, $"graph inputs are [{string.Join(", ", step.InputMetadata.Keys.Take(6))}, …]; expected {input} (a T5Gemma 2 decoder step written by t5rag model convert).");
            }
        }
    }

    /// <summary>The weight format the converter recorded in t5rag.json: fp32, int8 or int4.</summary>
    private static string ReadWeightFormat(ModelDirectory model)
    {
        var manifest = ConfigFile.Read(Path.Combine(model.Path, ModelDirectory.ManifestFileName), required: false, "t5rag's model manifest");
        return manifest?.GetString("weights") ?? "fp32";
    }

    private static OrtValue? LoadSharedEmbedding(ModelDirectory model, T5Gemma2Config config)
    {
        string path = Path.Combine(model.Path, "onnx", EncoderGraphNames.SharedEmbeddingFile);
        if (!File.Exists(path))
        {
            return null;
        }

        long count = (long)config.Encoder.VocabSize * config.Encoder.HiddenSize;
        if (new FileInfo(path).Length != count * 4)
        {
            throw new ModelFileException(path, $"is {new FileInfo(path).Length} bytes; expected {count * 4} (fp32 [{config.Encoder.VocabSize}, {config.Encoder.HiddenSize}]).");
        }

        var table = new float[count];
        using (var stream = File.OpenRead(path))
        {
            const int Slice = 1 << 30;
            for (long offset = 0; offset < count * 4; offset += Slice)
            {
                int take = (int)Math.Min(Slice, (count * 4) - offset);
                stream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(table.AsSpan((int)(offset / 4), take / 4)));
            }
        }

        return OrtValue.CreateTensorValueFromMemory(table, [config.Encoder.VocabSize, config.Encoder.HiddenSize]);
    }
}
