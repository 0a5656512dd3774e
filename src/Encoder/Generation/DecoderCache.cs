using Microsoft.ML.OnnxRuntime;
using T5Gemma2.Rag.Encoder.Models;

namespace T5Gemma2.Rag.Encoder.Generation;

/// <summary>
/// The merged caches of one request (<see cref="DecoderGraphNames"/>): per layer, keys [batch, kv_heads, encoder +
/// capacity, head_dim] and transposed values [batch, kv_heads, head_dim, encoder + capacity], as the cross-cache graph
/// wrote them. Each step's new keys and values are stored in the next self slots here, a few hundred floats per layer,
/// so no step copies the cache; when the slots run out, the buffers are replaced by ones of twice the room.
/// </summary>
/// <remarks>It owns every ONNX Runtime value it holds and disposes them all.</remarks>
internal sealed class DecoderCache : IDisposable
{
    private readonly OrtValue[] _keys;
    private readonly OrtValue[] _values;
    private readonly int _batch;
    private readonly int _heads;
    private readonly int _headDim;
    private IDisposable? _crossOutputs;

    private DecoderCache(IDisposableReadOnlyCollection<OrtValue> crossOutputs, int batch, int heads, int headDim, int encoderLength, int capacity)
    {
        this._crossOutputs = crossOutputs;
        int layers = crossOutputs.Count / 2;
        this._keys = [.. Enumerable.Range(0, layers).Select(i => crossOutputs[2 * i])];
        this._values = [.. Enumerable.Range(0, layers).Select(i => crossOutputs[2 * i + 1])];
        this._batch = batch;
        this._heads = heads;
        this._headDim = headDim;
        this.EncoderLength = encoderLength;
        this.Capacity = capacity;
    }

    /// <summary>Encoder positions at the head of every cache.</summary>
    public int EncoderLength { get; }

    /// <summary>Self slots: the most decoder tokens the buffers hold now.</summary>
    public int Capacity { get; private set; }

    /// <summary>Self slots filled.</summary>
    public int Length { get; private set; }

    /// <summary>Changes whenever the buffers are replaced, so a binding knows to bind them again.</summary>
    public int Version { get; private set; }

    public int Layers => this._keys.Length;

    /// <summary>Wraps the cross-cache graph's outputs: cache.{i}.key and cache.{i}.value_transposed, layer by layer.</summary>
    public static DecoderCache FromCrossCache(IDisposableReadOnlyCollection<OrtValue> outputs, int keyValueHeads, int headDim, int capacity)
    {
        long[] shape = outputs[0].GetTensorTypeAndShape().Shape;
        return new DecoderCache(outputs, (int)shape[0], keyValueHeads, headDim, (int)shape[2] - capacity, capacity);
    }

    public OrtValue Key(int layer) => this._keys[layer];

    public OrtValue ValueTransposed(int layer) => this._values[layer];

    /// <summary>Makes room for <paramref name="tokens"/> more, doubling the slots (at least) when they run out.</summary>
    public void EnsureRoom(int tokens)
    {
        if (this.Length + tokens <= this.Capacity)
        {
            return;
        }

        int capacity = Math.Max(this.Length + tokens, 2 * Math.Max(1, this.Capacity));
        int oldTotal = this.EncoderLength + this.Capacity, total = this.EncoderLength + capacity, filled = this.EncoderLength + this.Length;
        int rows = this._batch * this._heads, d = this._headDim;
        for (int layer = 0; layer < this.Layers; layer++)
        {
            var keys = new float[(long)rows * total * d];
            var values = new float[(long)rows * d * total];
            var oldKeys = this._keys[layer].GetTensorDataAsSpan<float>();
            var oldValues = this._values[layer].GetTensorDataAsSpan<float>();
            for (int row = 0; row < rows; row++)
            {
                oldKeys.Slice(row * oldTotal * d, filled * d).CopyTo(keys.AsSpan(row * total * d));
                for (int j = 0; j < d; j++)
                {
                    oldValues.Slice(((row * d) + j) * oldTotal, filled).CopyTo(values.AsSpan(((row * d) + j) * total));
                }
            }

            if (this._crossOutputs is null)
            {
                this._keys[layer].Dispose();
                this._values[layer].Dispose();
            }

            this._keys[layer] = OrtValue.CreateTensorValueFromMemory(keys, [this._batch, this._heads, total, d]);
            this._values[layer] = OrtValue.CreateTensorValueFromMemory(values, [this._batch, this._heads, d, total]);
        }

        this._crossOutputs?.Dispose();
        this._crossOutputs = null;
        this.Capacity = capacity;
        this.Version++;
    }

    /// <summary>
    /// Stores a step's new keys [batch, kv, tokens, head_dim] and transposed values [batch, kv, head_dim, tokens] of
    /// every layer in the next self slots.
    /// </summary>
    public void Append(IReadOnlyList<float[]> newKeys, IReadOnlyList<float[]> newValuesTransposed, int tokens)
    {
        if (this.Length + tokens > this.Capacity)
        {
            throw new InvalidOperationException($"the cache has {this.Capacity - this.Length} free self slots; {tokens} tokens do not fit (call EnsureRoom first).");
        }

        int total = this.EncoderLength + this.Capacity, start = this.EncoderLength + this.Length;
        int rows = this._batch * this._heads, d = this._headDim;
        for (int layer = 0; layer < this.Layers; layer++)
        {
            var keys = this._keys[layer].GetTensorMutableDataAsSpan<float>();
            var values = this._values[layer].GetTensorMutableDataAsSpan<float>();
            var newKey = newKeys[layer].AsSpan();
            var newValue = newValuesTransposed[layer].AsSpan();
            for (int row = 0; row < rows; row++)
            {
                newKey.Slice(row * tokens * d, tokens * d).CopyTo(keys.Slice(((row * total) + start) * d));
                for (int j = 0; j < d; j++)
                {
                    newValue.Slice(((row * d) + j) * tokens, tokens).CopyTo(values.Slice(((row * d) + j) * total + start));
                }
            }
        }

        this.Length += tokens;
    }

    /// <summary>Row b's self slots become row <paramref name="origins"/>[b]'s (beam search follows its beams); the cross part is the same input in every row.</summary>
    public void Reorder(int[] origins)
    {
        if (origins.Length != this._batch)
        {
            throw new ArgumentException($"{origins.Length} origins for {this._batch} rows; expected one per row.", nameof(origins));
        }

        int total = this.EncoderLength + this.Capacity, start = this.EncoderLength, length = this.Length, d = this._headDim, heads = this._heads;
        var snapshot = new float[this._batch * heads * length * d];
        for (int layer = 0; layer < this.Layers; layer++)
        {
            var keys = this._keys[layer].GetTensorMutableDataAsSpan<float>();
            for (int row = 0; row < this._batch * heads; row++)
            {
                keys.Slice(((row * total) + start) * d, length * d).CopyTo(snapshot.AsSpan(row * length * d));
            }

            for (int b = 0; b < this._batch; b++)
            {
                for (int h = 0; h < heads; h++)
                {
                    snapshot.AsSpan(((origins[b] * heads) + h) * length * d, length * d).CopyTo(keys.Slice(((((b * heads) + h) * total) + start) * d));
                }
            }

            var values = this._values[layer].GetTensorMutableDataAsSpan<float>();
            for (int row = 0; row < this._batch * heads; row++)
            {
                for (int j = 0; j < d; j++)
                {
                    values.Slice(((row * d) + j) * total + start, length).CopyTo(snapshot.AsSpan(((row * d) + j) * length));
                }
            }

            for (int b = 0; b < this._batch; b++)
            {
                for (int h = 0; h < heads; h++)
                {
                    int source = (origins[b] * heads) + h, target = (b * heads) + h;
                    for (int j = 0; j < d; j++)
                    {
                        snapshot.AsSpan(((source * d) + j) * length, length).CopyTo(values.Slice(((target * d) + j) * total + start));
                    }
                }
            }
        }
    }

    public void Dispose()
    {
        if (this._crossOutputs is not null)
        {
            this._crossOutputs.Dispose();
            return;
        }

        foreach (var value in this._keys.Concat(this._values))
        {
            value.Dispose();
        }
    }
}
