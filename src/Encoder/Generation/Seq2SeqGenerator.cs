using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Encoder.Images;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Onnx;
using T5Gemma2.Rag.Encoder.Tokenization;
using T5Gemma2.Rag.Encoder.Vision;

namespace T5Gemma2.Rag.Encoder.Generation;

/// <summary>
/// Text generation with a converted T5Gemma 2 model: the encoder reads the input once, the cross-cache graph turns its
/// states into every layer's cross keys and values once per request, and the decoder step graph runs one token at a
/// time over a self cache that grows by one position per step. Greedy, sampling, beam search, repetition penalty,
/// stop sequences, batches of inputs of different lengths, streaming, cancellation.
/// </summary>
/// <remarks>
/// The decoder starts from the config's bos (2 in the released models) and stops at its eos (1). Safe for concurrent
/// callers: sessions are shared, everything else is per call. Every ONNX Runtime value a call creates is disposed
/// when the call ends, cancelled or not. Dispose during a call stops it and waits for it to end.
/// </remarks>
public sealed class Seq2SeqGenerator : IDisposable
{
    private readonly Seq2SeqModel _model;
    private readonly GenerationLifetime _lifetime;
    private ImagePreprocessor? _images;

    private Seq2SeqGenerator(Seq2SeqModel model)
    {
        this._model = model;
        this._lifetime = new GenerationLifetime(this);
    }

    public ModelDirectory Model => this._model.Model;

    /// <summary>The preprocessor for this model's image size; refuses for a text-only model.</summary>
    private ImagePreprocessor Images => this._images ??= ImagePreprocessor.Create(new ImagePreprocessorOptions(this.Model.RequireVision().ImageSize));

    /// <summary>The encoder session, which embedding generators made by <see cref="CreateEmbeddingGenerator"/> share.</summary>
    internal InferenceSession EncoderSession => this._model.Encoder.Session;

    public T5Gemma2Config Config => this._model.Config;

    public GemmaTokenizer Tokenizer => this._model.Tokenizer;

    /// <summary>Opens a converted model directory with decoder graphs.</summary>
    /// <exception cref="ModelFileException">The directory is not a converted T5Gemma 2 model, or it has no decoder graphs (an encoder-only conversion).</exception>
    public static Seq2SeqGenerator Create(string modelDirectory, OnnxSessionOptions? sessionOptions = null) =>
        new(Seq2SeqModel.Open(modelDirectory, sessionOptions ?? OnnxSessionOptions.Default));

    /// <summary>
    /// An embedding generator over this generator's own encoder session, so a process that embeds and answers with
    /// one T5Gemma 2 model holds its encoder once (0.7 GB at 270m, 2.7 GB at 4b). Its <see cref="OnnxEmbeddingGeneratorOptions.Session"/>
    /// is not used: the session exists. It may outlive this generator; the encoder goes when both are disposed.
    /// </summary>
    public OnnxEmbeddingGenerator CreateEmbeddingGenerator(OnnxEmbeddingGeneratorOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        this._lifetime.ThrowIfClosed();
        return OnnxEmbeddingGenerator.Create(this.Model, this._model.Encoder, options, loggerFactory);
    }

    /// <summary>Generates an answer to one input.</summary>
    public async Task<GenerationResult> GenerateAsync(string input, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        (await this.GenerateAsync([input], options, cancellationToken).ConfigureAwait(false))[0];

    /// <summary>Generates answers to several inputs of any lengths in one batch (beam search runs them one at a time).</summary>
    public Task<IReadOnlyList<GenerationResult>> GenerateAsync(IReadOnlyList<string> inputs, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        try
        {
            return this.GenerateFromIdsAsync([.. inputs.Select(this.EncodeInput)], options, cancellationToken);
        }
        catch (Exception ex)
        {
            return Task.FromException<IReadOnlyList<GenerationResult>>(ex);
        }
    }

    /// <summary>Generates from encoder input ids as given (bos included), for inputs already tokenized.</summary>
    public Task<IReadOnlyList<GenerationResult>> GenerateFromIdsAsync(IReadOnlyList<int[]> inputIds, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        return this.GenerateAsync([.. inputIds.Select(EncoderInput.FromIds)], options, cancellationToken);
    }

    /// <summary>Generates an answer over images and a question: the images' blocks first, then the text (Gemma 3's processor needs a placeholder per image; this is the layout of placeholders put before the text).</summary>
    /// <exception cref="ImagesNotSupportedException">The model is text-only.</exception>
    public async Task<GenerationResult> GenerateAsync(string input, IReadOnlyList<PixelValues> images, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        (await this.GenerateAsync([this.CreateInput(input, images)], options, cancellationToken).ConfigureAwait(false))[0];

    /// <summary>Generates from encoder inputs with or without images, in one batch (beam search runs them one at a time).</summary>
    public Task<IReadOnlyList<GenerationResult>> GenerateAsync(IReadOnlyList<EncoderInput> inputs, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        try
        {
            options ??= GenerationOptions.Default;
            options.Validate();
            this._lifetime.ThrowIfClosed();
            EncoderInput[] batch = [.. inputs];
            Array.ForEach(batch, this.CheckLength);
            IReadOnlyList<GenerationResult> results = options.NumBeams > 1
                ? [.. batch.Select(one => this._lifetime.Run(cancellationToken, (runOptions, stop) => BeamSearchDecoder.Search(this._model, one, options, runOptions, stop)))]
                : this.Decode(batch, options, onToken: null, cancellationToken);
            return Task.FromResult(results);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<IReadOnlyList<GenerationResult>>(cancellationToken);
        }
        catch (Exception ex)
        {
            return Task.FromException<IReadOnlyList<GenerationResult>>(ex);
        }
    }

    /// <summary>The encoder input for images and a question: the images' blocks first, then the text.</summary>
    /// <exception cref="ImagesNotSupportedException">Images were given and the model is text-only.</exception>
    public EncoderInput CreateInput(string text, IReadOnlyList<PixelValues> images)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0)
        {
            return EncoderInput.FromIds(this.EncodeInput(text));
        }

        var prompt = this.CreateImagePrompt();
        for (int i = 0; i < images.Count; i++)
        {
            // With no text the processor joins the images' placeholders by a space.
            prompt.AddText(i > 0 && text.Length == 0 ? " " : string.Empty).AddImage();
        }

        return EncoderInput.WithImages(prompt.AddText(text).Build(), images);
    }

    /// <summary>Reads an image file as this model's vision tower takes it (its image size, the processor's resize and normalisation).</summary>
    /// <exception cref="ImagesNotSupportedException">The model is text-only.</exception>
    /// <exception cref="ImageFileException">The file is missing, too large, not an image, corrupt or truncated.</exception>
    public PixelValues LoadImage(string path, CancellationToken cancellationToken = default) => this.Images.Load(path, cancellationToken);

    /// <summary>An encoded image in memory (a chat part, a stored image passage) as the vision tower takes it; <paramref name="sourceName"/> names it in errors.</summary>
    /// <exception cref="ImagesNotSupportedException">The model is text-only.</exception>
    /// <exception cref="ImageFileException">Too large, not an image, corrupt or truncated.</exception>
    public PixelValues DecodeImage(ReadOnlySpan<byte> encoded, string sourceName) => this.Images.Decode(encoded, sourceName);

    /// <summary>A prompt builder for this model's image tokens, for text and images in any order (a chat, a packed context).</summary>
    /// <exception cref="ImagesNotSupportedException">The model is text-only.</exception>
    public ImagePromptBuilder CreateImagePrompt() => ImagePromptBuilder.Create(this.Tokenizer, this.Model.RequireVision());

    /// <summary>Streams the answer to one input as text deltas; no delta splits a character (greedy or sampling).</summary>
    public IAsyncEnumerable<string> GenerateStreamingAsync(string input, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        this.GenerateStreamingFromIdsAsync(this.EncodeInput(input), options, cancellationToken);

    /// <summary>Streams the answer to encoder input ids as given (bos included), for inputs already tokenized (packed contexts).</summary>
    public IAsyncEnumerable<string> GenerateStreamingFromIdsAsync(int[] ids, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return this.GenerateStreamingAsync(EncoderInput.FromIds(ids), options, cancellationToken);
    }

    /// <summary>Streams the answer to an encoder input with or without images.</summary>
    public async IAsyncEnumerable<string> GenerateStreamingAsync(EncoderInput input, GenerationOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var update in this.GenerateUpdatesAsync(input, options, cancellationToken).ConfigureAwait(false))
        {
            if (update.Delta is { } delta)
            {
                yield return delta;
            }
        }
    }

    /// <summary>
    /// Streams the answer to an encoder input as text deltas, then the <see cref="GenerationResult"/> (its token ids and
    /// finish reason) as the last update: what a streaming API needs to report usage. A cancelled call ends without it.
    /// </summary>
    public async IAsyncEnumerable<GenerationUpdate> GenerateUpdatesAsync(EncoderInput input, GenerationOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        options ??= GenerationOptions.Default;
        options.Validate();
        if (options.NumBeams > 1)
        {
            throw new ArgumentException("Beam search cannot stream: its best answer is known only at the end.", nameof(options));
        }

        this._lifetime.ThrowIfClosed();
        this.CheckLength(input);
        await foreach (var update in DeltaStream.Run((onToken, stop) => this.Decode([input], options, onToken, stop)[0], cancellationToken).ConfigureAwait(false))
        {
            yield return update;
        }
    }

    /// <summary>Stops the generations in flight (they end with <see cref="ObjectDisposedException"/>), waits for them, then releases the sessions.</summary>
    public void Dispose() => this._lifetime.Close(this._model.Dispose);

    /// <summary>
    /// log p(target | input) under teacher forcing, in one decoder pass: Σ over the target's tokens of the log-softmax
    /// of the decoder's logits at that token. What a reranker scores a passage by (p(question | passage)).
    /// </summary>
    /// <param name="inputIds">Encoder input ids as given (bos included).</param>
    /// <param name="targetIds">The tokens to score (no decoder start token; it is added).</param>
    public Task<double> LogLikelihoodAsync(int[] inputIds, int[] targetIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        ArgumentNullException.ThrowIfNull(targetIds);
        ArgumentOutOfRangeException.ThrowIfZero(targetIds.Length, nameof(targetIds));
        cancellationToken.ThrowIfCancellationRequested();
        this._lifetime.ThrowIfClosed();
        float[] logits = this.Logits(inputIds, [this.Config.BosTokenId, .. targetIds[..^1]], cancellationToken);
        int vocabulary = logits.Length / targetIds.Length;
        double total = 0;
        for (int t = 0; t < targetIds.Length; t++)
        {
            var row = logits.AsSpan(t * vocabulary, vocabulary);
            float max = System.Numerics.Tensors.TensorPrimitives.Max(row);
            double sum = 0;
            foreach (float value in row)
            {
                sum += Math.Exp(value - max);
            }

            total += row[targetIds[t]] - max - Math.Log(sum);
        }

        return Task.FromResult(total);
    }

    /// <summary>Logits of every decoder position for the given decoder ids, without a cache (one pass): for checks against a reference.</summary>
    internal float[] Logits(int[] inputIds, int[] decoderIds, CancellationToken cancellationToken = default) =>
        this.Logits(EncoderInput.FromIds(inputIds), decoderIds, cancellationToken);

    /// <summary>As <see cref="Logits(int[], int[], CancellationToken)"/>, for an input with images.</summary>
    internal float[] Logits(EncoderInput input, int[] decoderIds, CancellationToken cancellationToken = default) =>
        this._lifetime.Run(cancellationToken, (runOptions, stop) =>
        {
            using var prefill = Prefill.Run(this._model, [input], selfCapacity: 0, runOptions, stop);
            prefill.Steps.Run([.. decoderIds.Select(i => (long)i)], decoderIds.Length, store: false, runOptions);
            return prefill.Steps.AllLogits();
        });

    internal int[] EncodeInput(string input)
    {
        ArgumentNullException.ThrowIfNull(input);
        // The input is untrusted text (a chat message, a question): strings like <eos> or <start_of_image> stay text.
        var ids = this.Tokenizer.EncodeToIdsAsPlainText(input, this.Tokenizer.AddBeginningOfSentence);
        int limit = this.Config.Encoder.MaxPositionEmbeddings;
        if (ids.Count > limit)
        {
            throw new ArgumentException($"the input has {ids.Count} tokens; the model takes at most {limit} (max_position_embeddings). Shorten it or pack fewer passages.", nameof(input));
        }

        return [.. ids];
    }

    private void CheckLength(EncoderInput input)
    {
        if (input.Ids.Length > this.Config.Encoder.MaxPositionEmbeddings)
        {
            throw new ArgumentException($"the input has {input.Ids.Length} tokens; the model takes at most {this.Config.Encoder.MaxPositionEmbeddings} (max_position_embeddings).", nameof(input));
        }
    }

    private List<GenerationResult> Decode(EncoderInput[] inputs, GenerationOptions options, Action<string>? onToken, CancellationToken cancellationToken) =>
        this._lifetime.Run(cancellationToken, (runOptions, stop) => LockstepDecoder.Decode(this._model, inputs, options, onToken, runOptions, stop));
}
