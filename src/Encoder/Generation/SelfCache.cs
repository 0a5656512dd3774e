using Microsoft.ML.OnnxRuntime;
using T5Gemma2.Rag.Encoder.Models;

namespace T5Gemma2.Rag.Encoder.Generation;

/// <summary>
/// The decoder's self-attention cache after a step (present.{i}.decoder.key|value, fed back as past_key_values), and
/// that step's logits. It owns the ONNX Runtime values it holds and disposes them all.
/// </summary>
internal sealed class SelfCache : IDisposable
{
    private readonly IDisposable? _owner;
    private readonly OrtValue[] _keys;
    private readonly OrtValue[] _values;
    private readonly OrtValue? _logits;
    private readonly int _vocabulary;
    private readonly int _length;

    /// <summary>Wraps a step's outputs: logits first, then present key and value per layer.</summary>
    public SelfCache(IDisposableReadOnlyCollection<OrtValue> outputs, int vocabulary, int length)
    {
        this._owner = outputs;
        this._logits = outputs[0];
        int layers = (outputs.Count - 1) / 2;
        this._keys = [.. Enumerable.Range(0, layers).Select(i => outputs[1 + 2 * i])];
        this._values = [.. Enumerable.Range(0, layers).Select(i => outputs[2 + 2 * i])];
        this._vocabulary = vocabulary;
        this._length = length;
    }

    private SelfCache(OrtValue[] keys, OrtValue[] values)
    {
        this._keys = keys;
        this._values = values;
    }

    /// <summary>A cache with no positions yet, for the first step.</summary>
    public static SelfCache Empty(T5Gemma2StackConfig decoder, int batch)
    {
        long[] shape = [batch, decoder.NumKeyValueHeads, 0, decoder.HeadDim];
        return new SelfCache(
            [.. Enumerable.Range(0, decoder.NumLayers).Select(_ => OrtValue.CreateTensorValueFromMemory(Array.Empty<float>(), shape))],
            [.. Enumerable.Range(0, decoder.NumLayers).Select(_ => OrtValue.CreateTensorValueFromMemory(Array.Empty<float>(), shape))]);
    }

    public OrtValue Key(int layer) => this._keys[layer];

    public OrtValue Value(int layer) => this._values[layer];

    /// <summary>The logits of the last new position of a row.</summary>
    public float[] LastLogits(int row)
    {
        var all = this._logits!.GetTensorDataAsSpan<float>();
        return all.Slice(((row + 1) * this._length - 1) * this._vocabulary, this._vocabulary).ToArray();
    }

    /// <summary>Every logit, [batch, new positions, vocab] flattened.</summary>
    public float[] AllLogits() => this._logits!.GetTensorDataAsSpan<float>().ToArray();

    /// <summary>A new cache whose row b is row <paramref name="origins"/>[b] of this one (beam search follows its beams).</summary>
    public SelfCache Reorder(int[] origins) =>
        new([.. this._keys.Select(k => Gather(k, origins))], [.. this._values.Select(v => Gather(v, origins))]);

    public void Dispose()
    {
        if (this._owner is not null)
        {
            this._owner.Dispose();
            return;
        }

        foreach (var value in this._keys.Concat(this._values))
        {
            value.Dispose();
        }
    }

    private static OrtValue Gather(OrtValue source, int[] rows)
    {
        long[] shape = source.GetTensorTypeAndShape().Shape;
        var data = source.GetTensorDataAsSpan<float>();
        int rowSize = (int)(shape[1] * shape[2] * shape[3]);
        var result = new float[rows.Length * rowSize];
        for (int b = 0; b < rows.Length; b++)
        {
            data.Slice(rows[b] * rowSize, rowSize).CopyTo(result.AsSpan(b * rowSize, rowSize));
        }

        return OrtValue.CreateTensorValueFromMemory(result, [rows.Length, shape[1], shape[2], shape[3]]);
    }
}
