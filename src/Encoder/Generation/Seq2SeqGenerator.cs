using System.Runtime.CompilerServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.Extensions.Logging;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Onnx;
using T5Gemma2.Rag.Encoder.Tokenization;

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
    /// <summary>Self slots the cache starts with (it doubles when they run out): scoring empty slots costs more than growing.</summary>
    private const int InitialSelfCapacity = 64;

    private readonly SharedSession _encoder;
    private readonly InferenceSession _crossCache;
    private readonly InferenceSession _step;
    private readonly string[] _crossOutputs;

    // Dispose cancels the calls in flight and waits for them (guarded by _lifetime): releasing a session under a
    // running step crashed the process (SIGSEGV).
    private readonly CancellationTokenSource _disposing = new();
    private readonly object _lifetime = new(); // an object, not a Lock: Dispose waits on it with Monitor.Wait
    private int _inFlight;
    private volatile bool _disposed;

    private Seq2SeqGenerator(ModelDirectory model, T5Gemma2Config config, GemmaTokenizer tokenizer, SharedSession encoder, InferenceSession crossCache, InferenceSession step)
    {
        this.Model = model;
        this.Config = config;
        this.Tokenizer = tokenizer;
        this._encoder = encoder;
        this._crossCache = crossCache;
        this._step = step;
        this._crossOutputs = [.. Enumerable.Range(0, config.Decoder!.NumLayers).SelectMany(i => new[] { DecoderGraphNames.CacheKey(i), DecoderGraphNames.CacheValueTransposed(i) })];
    }

    public ModelDirectory Model { get; }

    /// <summary>The encoder session, which embedding generators made by <see cref="CreateEmbeddingGenerator"/> share.</summary>
    internal InferenceSession EncoderSession => this._encoder.Session;

    public T5Gemma2Config Config { get; }

    public GemmaTokenizer Tokenizer { get; }

    /// <summary>Opens a converted model directory with decoder graphs.</summary>
    /// <exception cref="ModelFileException">The directory is not a converted T5Gemma 2 model, or it has no decoder graphs (an encoder-only conversion).</exception>
    public static Seq2SeqGenerator Create(string modelDirectory, OnnxSessionOptions? sessionOptions = null)
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
        sessionOptions ??= OnnxSessionOptions.Default;
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

            // The table outlives every session that reads it: it goes with the encoder's last owner (this generator,
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

            return new Seq2SeqGenerator(model, config, tokenizer, encoder, sessions[0], sessions[1]);
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
    /// An embedding generator over this generator's own encoder session, so a process that embeds and answers with
    /// one T5Gemma 2 model holds its encoder once (0.7 GB at 270m, 2.7 GB at 4b). Its <see cref="OnnxEmbeddingGeneratorOptions.Session"/>
    /// is not used: the session exists. It may outlive this generator; the encoder goes when both are disposed.
    /// </summary>
    public OnnxEmbeddingGenerator CreateEmbeddingGenerator(OnnxEmbeddingGeneratorOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        ObjectDisposedException.ThrowIf(this._disposed, this);
        return OnnxEmbeddingGenerator.Create(this.Model, this._encoder, options, loggerFactory);
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
        try
        {
            options ??= GenerationOptions.Default;
            options.Validate();
            ObjectDisposedException.ThrowIf(this._disposed, this);
            int[][] ids = [.. inputIds];
            IReadOnlyList<GenerationResult> results = options.NumBeams > 1
                ? [.. ids.Select(one => this.BeamSearch(one, options, cancellationToken))]
                : this.Decode(ids, options, onToken: null, cancellationToken);
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

    /// <summary>Streams the answer to one input as text deltas; no delta splits a character (greedy or sampling).</summary>
    public IAsyncEnumerable<string> GenerateStreamingAsync(string input, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        this.GenerateStreamingFromIdsAsync(this.EncodeInput(input), options, cancellationToken);

    /// <summary>Streams the answer to encoder input ids as given (bos included), for inputs already tokenized (packed contexts).</summary>
    public async IAsyncEnumerable<string> GenerateStreamingFromIdsAsync(int[] ids, GenerationOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        options ??= GenerationOptions.Default;
        options.Validate();
        if (options.NumBeams > 1)
        {
            throw new ArgumentException("Beam search cannot stream: its best answer is known only at the end.", nameof(options));
        }

        ObjectDisposedException.ThrowIf(this._disposed, this);
        if (ids.Length > this.Config.Encoder.MaxPositionEmbeddings)
        {
            throw new ArgumentException($"the input has {ids.Length} tokens; the model takes at most {this.Config.Encoder.MaxPositionEmbeddings} (max_position_embeddings).", nameof(ids));
        }

        // Decoding runs on a worker; deltas reach the caller through a channel as the tokens are chosen. A caller that
        // stops reading early stops the worker too.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var channel = System.Threading.Channels.Channel.CreateUnbounded<string>(new() { SingleReader = true, SingleWriter = true });
        var worker = Task.Run(
            () =>
            {
                try
                {
                    this.Decode([ids], options, delta => channel.Writer.TryWrite(delta), stop.Token);
                    channel.Writer.TryComplete();
                }
                catch (Exception ex)
                {
                    channel.Writer.TryComplete(ex);
                }
            },
            CancellationToken.None);

        try
        {
            await foreach (string delta in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return delta;
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await worker.ConfigureAwait(false); // never throws: the worker hands its failures to the channel
        }
    }

    /// <summary>Stops the generations in flight (they end with <see cref="ObjectDisposedException"/>), waits for them, then releases the sessions.</summary>
    public void Dispose()
    {
        lock (this._lifetime)
        {
            if (this._disposed)
            {
                return;
            }

            this._disposed = true;
        }

        // Runs stop within an operator (RunOptions.Terminate) and the decoding loops at their next step.
        this._disposing.Cancel();
        lock (this._lifetime)
        {
            while (this._inFlight > 0)
            {
                Monitor.Wait(this._lifetime);
            }
        }

        this._crossCache.Dispose();
        this._step.Dispose();
        this._encoder.Release();
        this._disposing.Dispose();
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
        ObjectDisposedException.ThrowIf(this._disposed, this);
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
        this.Run(cancellationToken, (runOptions, _) =>
        {
            using var encoded = this.Encode([inputIds], runOptions);
            using var cache = this.CrossCache(encoded, selfCapacity: 0, runOptions);
            using var steps = new DecoderStepRunner(this._step, this.Config.Decoder!, cache, encoded.Mask, 1);
            steps.Run([.. decoderIds.Select(i => (long)i)], decoderIds.Length, store: false, runOptions);
            return steps.AllLogits();
        });

    private int[] EncodeInput(string input)
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

    /// <summary>Greedy or sampled decoding of a batch in lockstep; finished rows are fed padding until all are done.</summary>
    private List<GenerationResult> Decode(int[][] inputs, GenerationOptions options, Action<string>? onToken, CancellationToken cancellationToken) =>
        this.Run(cancellationToken, (runOptions, stop) => this.Decode(inputs, options, onToken, runOptions, stop));

    private List<GenerationResult> Decode(int[][] inputs, GenerationOptions options, Action<string>? onToken, RunOptions runOptions, CancellationToken cancellationToken)
    {
        var decoder = this.Config.Decoder!;
        int batch = inputs.Length;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var encoded = this.Encode(inputs, runOptions);
        var encodeTime = clock.Elapsed;

        // Without the cache (a check of it), every step feeds all tokens and the self slots stay empty.
        using var cache = this.CrossCache(encoded, options.UseCache ? Math.Min(options.MaxNewTokens, InitialSelfCapacity) : 0, runOptions);
        var crossTime = clock.Elapsed - encodeTime;
        using var steps = new DecoderStepRunner(this._step, decoder, cache, encoded.Mask, batch);
        TimeSpan? firstStep = null;
        var states = inputs.Select(_ => new RowState(this.Tokenizer, options)).ToArray();
        var random = new Random(options.Seed ?? Environment.TickCount);
        var history = inputs.Select(_ => new List<long> { this.Config.BosTokenId }).ToArray();
        var logits = new float[decoder.VocabSize];
        for (int step = 0; step < options.MaxNewTokens && states.Any(s => !s.Done); step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long[] tokens = options.UseCache
                ? [.. history.Select(h => h[^1])]
                : [.. history.SelectMany(h => h)];
            int length = options.UseCache ? 1 : history[0].Count;
            steps.Run(tokens, length, store: options.UseCache, runOptions);
            firstStep ??= clock.Elapsed - encodeTime - crossTime;
            for (int row = 0; row < batch; row++)
            {
                if (states[row].Done)
                {
                    history[row].Add(this.Config.PadTokenId);
                    continue;
                }

                steps.Logits(row, length - 1).CopyTo(logits);
                TokenSampler.ApplyRepetitionPenalty(logits, states[row].Ids, options.RepetitionPenalty);
                if (states[row].Ids.Count < options.MinNewTokens)
                {
                    logits[this.Config.EosTokenId] = float.NegativeInfinity;
                }

                int next = options.Sample ? TokenSampler.Sample(logits, options, random) : TokenSampler.Greedy(logits);
                history[row].Add(next);
                string delta = states[row].Add(next, this.Config.EosTokenId);
                if (delta.Length > 0)
                {
                    onToken?.Invoke(delta);
                }
            }
        }

        foreach (var state in states.Where(s => !s.Done))
        {
            string rest = state.Finish(FinishReason.Length);
            if (rest.Length > 0)
            {
                onToken?.Invoke(rest);
            }
        }

        var timings = new GenerationTimings(encodeTime, crossTime, firstStep ?? TimeSpan.Zero, clock.Elapsed - encodeTime - crossTime);
        return [.. states.Select((s, i) => new GenerationResult(s.Text, s.Ids, s.Reason, inputs[i].Length) { Timings = timings })];
    }

    /// <summary>Beam search for one input: the batch holds the beams; hypotheses end at eos and are scored by log-probability ÷ length^penalty.</summary>
    private GenerationResult BeamSearch(int[] input, GenerationOptions options, CancellationToken cancellationToken) =>
        this.Run(cancellationToken, (runOptions, stop) => this.BeamSearch(input, options, runOptions, stop));

    private GenerationResult BeamSearch(int[] input, GenerationOptions options, RunOptions runOptions, CancellationToken cancellationToken)
    {
        var decoder = this.Config.Decoder!;
        int beams = options.NumBeams;
        using var encoded = this.Encode(Enumerable.Repeat(input, beams).ToArray(), runOptions);
        using var cache = this.CrossCache(encoded, Math.Min(options.MaxNewTokens, InitialSelfCapacity), runOptions);
        using var steps = new DecoderStepRunner(this._step, decoder, cache, encoded.Mask, beams);
        var sequences = Enumerable.Range(0, beams).Select(_ => new List<int>()).ToArray();
        var scores = Enumerable.Range(0, beams).Select(b => b == 0 ? 0.0 : double.NegativeInfinity).ToArray();
        var finished = new List<(double Score, List<int> Ids)>();
        var logits = new float[decoder.VocabSize];
        var logProbabilities = new float[decoder.VocabSize];
        long[] tokens = [.. Enumerable.Repeat((long)this.Config.BosTokenId, beams)];
        for (int step = 0; step < options.MaxNewTokens; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            steps.Run(tokens, 1, store: true, runOptions);

            var candidates = new List<(double Score, int Beam, int Token)>();
            for (int b = 0; b < beams; b++)
            {
                if (double.IsNegativeInfinity(scores[b]))
                {
                    continue;
                }

                steps.Logits(b, 0).CopyTo(logits);
                TokenSampler.ApplyRepetitionPenalty(logits, sequences[b], options.RepetitionPenalty);
                TokenSampler.LogSoftmax(logits, logProbabilities);
                foreach (int token in TopIndices(logProbabilities, 2 * beams))
                {
                    candidates.Add((scores[b] + logProbabilities[token], b, token));
                }
            }

            candidates.Sort((x, y) => y.Score.CompareTo(x.Score));
            var next = new List<(double Score, int Beam, int Token)>();
            foreach (var candidate in candidates)
            {
                if (candidate.Token == this.Config.EosTokenId)
                {
                    int length = sequences[candidate.Beam].Count + 1;
                    finished.Add((candidate.Score / Math.Pow(length, options.LengthPenalty), [.. sequences[candidate.Beam], candidate.Token]));
                }
                else
                {
                    next.Add(candidate);
                }

                if (next.Count == beams)
                {
                    break;
                }
            }

            // Done when enough hypotheses ended and no running beam can still beat the worst of them.
            if (finished.Count >= beams)
            {
                double worstKept = finished.OrderByDescending(f => f.Score).Take(beams).Min(f => f.Score);
                double bestRunning = next.Count == 0 ? double.NegativeInfinity : next[0].Score / Math.Pow(sequences[next[0].Beam].Count + 1, options.LengthPenalty);
                if (bestRunning <= worstKept)
                {
                    break;
                }
            }

            int[] origins = [.. next.Select(n => n.Beam)];
            sequences = [.. next.Select(n => new List<int>(sequences[n.Beam]) { n.Token })];
            scores = [.. next.Select(n => n.Score)];
            while (sequences.Length < beams)
            {
                sequences = [.. sequences, []];
                scores = [.. scores, double.NegativeInfinity];
                origins = [.. origins, 0];
            }

            cache.Reorder(origins);
            tokens = [.. sequences.Select(s => s.Count == 0 ? (long)this.Config.PadTokenId : s[^1])];
        }

        List<int> best;
        FinishReason reason;
        if (finished.Count > 0)
        {
            best = finished.MaxBy(f => f.Score).Ids;
            reason = FinishReason.EndOfSequence;
        }
        else
        {
            int top = Array.IndexOf(scores, scores.Max());
            best = sequences[top];
            reason = FinishReason.Length;
        }

        var state = new RowState(this.Tokenizer, options);
        foreach (int id in best)
        {
            state.Add(id, this.Config.EosTokenId);
        }

        if (!state.Done)
        {
            state.Finish(reason);
        }

        return new GenerationResult(state.Text, state.Ids, state.Reason, input.Length);
    }

    private static IEnumerable<int> TopIndices(float[] values, int count)
    {
        var top = new PriorityQueue<int, float>();
        for (int i = 0; i < values.Length; i++)
        {
            if (top.Count < count)
            {
                top.Enqueue(i, values[i]);
            }
            else if (top.TryPeek(out _, out float smallest) && values[i] > smallest)
            {
                top.DequeueEnqueue(i, values[i]);
            }
        }

        return top.UnorderedItems.Select(item => item.Element);
    }

    /// <summary>
    /// Every call that runs the sessions goes through here: it counts as in flight until it ends, so Dispose can wait
    /// for it, and it stops on the caller's cancellation or on Dispose. Its run options are terminated by either:
    /// ONNX Runtime checks Terminate between operators, so an 8k-token encode or the cross cache stops within an
    /// operator, not only between decoder steps.
    /// </summary>
    private T Run<T>(CancellationToken cancellationToken, Func<RunOptions, CancellationToken, T> work)
    {
        lock (this._lifetime)
        {
            ObjectDisposedException.ThrowIf(this._disposed, this);
            this._inFlight++;
        }

        try
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, this._disposing.Token);
            using var runOptions = new RunOptions();
            using var registration = stop.Token.Register(static state => ((RunOptions)state!).Terminate = true, runOptions);
            try
            {
                return work(runOptions, stop.Token);
            }
            catch (Exception ex) when ((ex is OnnxRuntimeException or OperationCanceledException) && stop.IsCancellationRequested)
            {
                // A terminated run fails inside ONNX Runtime: it is reported as the cancellation or the disposal it was.
                ObjectDisposedException.ThrowIf(!cancellationToken.IsCancellationRequested, this);
                throw new OperationCanceledException(cancellationToken);
            }
        }
        finally
        {
            lock (this._lifetime)
            {
                if (--this._inFlight == 0)
                {
                    Monitor.PulseAll(this._lifetime);
                }
            }
        }
    }

    private EncodedBatch Encode(int[][] inputs, RunOptions runOptions)
    {
        int batch = inputs.Length, length = inputs.Max(i => i.Length);
        long[] ids = new long[batch * length];
        long[] mask = new long[batch * length];
        Array.Fill(ids, this.Config.PadTokenId);
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t < inputs[b].Length; t++)
            {
                ids[b * length + t] = inputs[b][t];
                mask[b * length + t] = 1;
            }
        }

        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, [batch, length]);
        var maskValue = OrtValue.CreateTensorValueFromMemory(mask, [batch, length]);
        try
        {
            using var image = OrtValue.CreateTensorValueFromMemory(Array.Empty<float>(), [0, this.Config.Encoder.HiddenSize]);
            var outputs = this._encoder.Session.Run(runOptions, [EncoderGraphNames.InputIds, EncoderGraphNames.AttentionMask, EncoderGraphNames.ImageFeatures], [idsValue, maskValue, image], [EncoderGraphNames.LastHiddenState]);
            return new EncodedBatch(outputs, maskValue);
        }
        catch
        {
            maskValue.Dispose();
            throw;
        }
    }

    /// <summary>Every layer's merged cache with the cross part written and <paramref name="selfCapacity"/> empty self slots.</summary>
    private DecoderCache CrossCache(EncodedBatch encoded, int selfCapacity, RunOptions runOptions)
    {
        var decoder = this.Config.Decoder!;
        using var capacity = OrtValue.CreateTensorValueFromMemory(new long[] { selfCapacity }, [1]);
        var outputs = this._crossCache.Run(runOptions, [DecoderGraphNames.EncoderHiddenStates, DecoderGraphNames.SelfCapacity], [encoded.States, capacity], this._crossOutputs);
        return DecoderCache.FromCrossCache(outputs, decoder.NumKeyValueHeads, decoder.HeadDim, selfCapacity);
    }

    /// <summary>Encoder outputs and the encoder mask of one request, disposed together.</summary>
    private sealed class EncodedBatch(IDisposableReadOnlyCollection<OrtValue> outputs, OrtValue mask) : IDisposable
    {
        public OrtValue States => outputs[0];

        public OrtValue Mask => mask;

        public void Dispose()
        {
            outputs.Dispose();
            mask.Dispose();
        }
    }
}
