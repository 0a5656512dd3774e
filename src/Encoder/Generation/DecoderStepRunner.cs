using Microsoft.ML.OnnxRuntime;
using T5Gemma2.Rag.Encoder.Models;

namespace T5Gemma2.Rag.Encoder.Generation;

/// <summary>
/// Runs the decoder step graph for one request through an ONNX Runtime IOBinding: the merged caches and the encoder
/// mask are bound once, the token ids, logits and new keys and values live in buffers bound once per shape, so a
/// step allocates nothing and copies no cache; after each step the new keys and values go into the cache's slots.
/// </summary>
internal sealed class DecoderStepRunner : IDisposable
{
    private readonly InferenceSession _session;
    private readonly T5Gemma2StackConfig _decoder;
    private readonly DecoderCache _cache;
    private readonly int _batch;
    private readonly OrtIoBinding _binding;
    private readonly long[] _past = new long[1];
    private readonly OrtValue _pastValue;
    private readonly List<OrtValue> _shapeValues = [];
    private long[] _ids = [];
    private float[] _logits = [];
    private float[][] _newKeys = [];
    private float[][] _newValues = [];
    private int _length = -1;
    private int _boundVersion = -1;

    public DecoderStepRunner(InferenceSession session, T5Gemma2StackConfig decoder, DecoderCache cache, OrtValue encoderMask, int batch)
    {
        this._session = session;
        this._decoder = decoder;
        this._cache = cache;
        this._batch = batch;
        this._binding = session.CreateIoBinding();
        this._pastValue = OrtValue.CreateTensorValueFromMemory(this._past, [1]);
        this._binding.BindInput(DecoderGraphNames.EncoderAttentionMask, encoderMask);
        this._binding.BindInput(DecoderGraphNames.PastSequenceLength, this._pastValue);
    }

    /// <summary>The tokens fed by the last <see cref="Run"/>.</summary>
    public int Length => this._length;

    /// <summary>Logits of row <paramref name="row"/> at new position <paramref name="position"/> of the last run; valid until the next.</summary>
    public ReadOnlySpan<float> Logits(int row, int position) =>
        this._logits.AsSpan(((row * this._length) + position) * this._decoder.VocabSize, this._decoder.VocabSize);

    /// <summary>Every logit of the last run, [batch, tokens, vocab] flattened.</summary>
    public float[] AllLogits() => [.. this._logits.AsSpan(0, this._batch * this._length * this._decoder.VocabSize)];

    /// <summary>
    /// One step: <paramref name="tokens"/> ([batch × length], row by row) at the positions after the cache's filled
    /// slots; with <paramref name="store"/> their keys and values then join the cache, else the cache is left as it was
    /// (decoding without the cache, scoring a whole target at once).
    /// </summary>
    public void Run(ReadOnlySpan<long> tokens, int length, bool store, RunOptions runOptions)
    {
        if (store)
        {
            this._cache.EnsureRoom(length);
        }

        if (length != this._length)
        {
            this.BindShape(length);
        }

        if (this._cache.Version != this._boundVersion)
        {
            for (int layer = 0; layer < this._cache.Layers; layer++)
            {
                this._binding.BindInput(DecoderGraphNames.CacheKey(layer), this._cache.Key(layer));
                this._binding.BindInput(DecoderGraphNames.CacheValueTransposed(layer), this._cache.ValueTransposed(layer));
            }

            this._boundVersion = this._cache.Version;
        }

        tokens.CopyTo(this._ids);
        this._past[0] = this._cache.Length;
        this._session.RunWithBinding(runOptions, this._binding);
        if (store)
        {
            this._cache.Append(this._newKeys, this._newValues, length);
        }
    }

    public void Dispose()
    {
        this._binding.Dispose();
        this._pastValue.Dispose();
        this._shapeValues.ForEach(v => v.Dispose());
    }

    /// <summary>Buffers for steps of <paramref name="length"/> new tokens, bound as the step's input ids and outputs.</summary>
    private void BindShape(int length)
    {
        // The old buffers are let go only once the new ones are bound in their place.
        var previous = this._shapeValues.ToList();
        this._shapeValues.Clear();
        int kv = this._decoder.NumKeyValueHeads, d = this._decoder.HeadDim;
        this._ids = new long[this._batch * length];
        // Logits are [batch, tokens, vocab]: a 262k-word vocabulary makes them megabytes a token. Decoding without the
        // cache feeds one token more each step, so the buffer grows by doubling and a step binds its front, rather than
        // each step allocating (and the GC holding) a new one.
        long logits = (long)this._batch * length * this._decoder.VocabSize;
        if (this._logits.Length < logits)
        {
            this._logits = new float[this._logits.Length == 0 ? logits : Math.Max(logits, Math.Min(2L * this._logits.Length, Array.MaxLength))];
        }

        this._newKeys = [.. Enumerable.Range(0, this._decoder.NumLayers).Select(_ => new float[this._batch * kv * length * d])];
        this._newValues = [.. Enumerable.Range(0, this._decoder.NumLayers).Select(_ => new float[this._batch * kv * d * length])];

        this._binding.BindInput(DecoderGraphNames.InputIds, this.Keep(OrtValue.CreateTensorValueFromMemory(this._ids, [this._batch, length])));
        this._binding.BindOutput(DecoderGraphNames.Logits, this.Keep(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, this._logits.AsMemory(0, (int)logits), [this._batch, length, this._decoder.VocabSize])));
        for (int layer = 0; layer < this._decoder.NumLayers; layer++)
        {
            this._binding.BindOutput(DecoderGraphNames.NewKey(layer), this.Keep(OrtValue.CreateTensorValueFromMemory(this._newKeys[layer], [this._batch, kv, length, d])));
            this._binding.BindOutput(DecoderGraphNames.NewValueTransposed(layer), this.Keep(OrtValue.CreateTensorValueFromMemory(this._newValues[layer], [this._batch, kv, d, length])));
        }

        previous.ForEach(v => v.Dispose());
        this._length = length;
    }

    private OrtValue Keep(OrtValue value)
    {
        this._shapeValues.Add(value);
        return value;
    }
}
