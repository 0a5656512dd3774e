using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using T5Gemma2.Rag.Encoder.Models;

namespace T5Gemma2.Rag.Encoder.Generation;

/// <summary>
/// One request made ready to decode: the encoder reads its inputs once (padded to the longest), the cross-cache graph
/// turns the encoder's states into every layer's merged cache, and a step runner is bound to that cache and the
/// encoder mask. All of it is disposed together, also when a stage fails part way.
/// </summary>
internal sealed class Prefill : IDisposable
{
    /// <summary>Self slots the cache starts with (it doubles when they run out): scoring empty slots costs more than growing.</summary>
    public const int InitialSelfCapacity = 64;

    private readonly IDisposableReadOnlyCollection<OrtValue> _encoderOutputs;
    private readonly OrtValue _mask;

    private Prefill(IDisposableReadOnlyCollection<OrtValue> encoderOutputs, OrtValue mask, DecoderCache cache, DecoderStepRunner steps, TimeSpan encodeTime, TimeSpan crossCacheTime)
    {
        this._encoderOutputs = encoderOutputs;
        this._mask = mask;
        this.Cache = cache;
        this.Steps = steps;
        this.EncodeTime = encodeTime;
        this.CrossCacheTime = crossCacheTime;
    }

    public DecoderCache Cache { get; }

    /// <summary>The decoder step graph, bound to <see cref="Cache"/>, one row per input.</summary>
    public DecoderStepRunner Steps { get; }

    public TimeSpan EncodeTime { get; }

    public TimeSpan CrossCacheTime { get; }

    /// <summary>
    /// Encodes <paramref name="inputs"/> (their images through the vision tower first, once each) and writes the cross
    /// part of the caches, leaving <paramref name="selfCapacity"/> empty self slots.
    /// </summary>
    public static Prefill Run(Seq2SeqModel model, EncoderInput[] inputs, int selfCapacity, RunOptions runOptions, CancellationToken cancellationToken)
    {
        // The images' tower, the encoder and the cross cache: what a request costs before its first token.
        using var activity = T5RagTelemetry.Source.StartActivity("encode");
        activity?.SetTag("t5rag.encoder.inputs", inputs.Length).SetTag("t5rag.encoder.tokens", inputs.Sum(i => i.Ids.Length));
        var clock = Stopwatch.StartNew();
        float[] features = model.ImageFeatures(inputs, cancellationToken);
        var (outputs, mask) = Encode(model, inputs, features, runOptions);
        DecoderCache? cache = null;
        try
        {
            var encodeTime = clock.Elapsed;
            cache = CrossCache(model, outputs[0], selfCapacity, runOptions);
            var crossCacheTime = clock.Elapsed - encodeTime;
            var steps = new DecoderStepRunner(model.Step, model.Decoder, cache, mask, inputs.Length);
            return new Prefill(outputs, mask, cache, steps, encodeTime, crossCacheTime);
        }
        catch
        {
            cache?.Dispose();
            outputs.Dispose();
            mask.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        this.Steps.Dispose();
        this.Cache.Dispose();
        this._encoderOutputs.Dispose();
        this._mask.Dispose();
    }

    /// <summary>The encoder's last_hidden_state for the padded batch, and the mask that marks its real tokens.</summary>
    private static (IDisposableReadOnlyCollection<OrtValue> Outputs, OrtValue Mask) Encode(Seq2SeqModel model, EncoderInput[] inputs, float[] imageFeatures, RunOptions runOptions)
    {
        int batch = inputs.Length, length = inputs.Max(i => i.Ids.Length);
        long[] ids = new long[batch * length];
        long[] mask = new long[batch * length];
        Array.Fill(ids, model.Config.PadTokenId);
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t < inputs[b].Ids.Length; t++)
            {
                ids[b * length + t] = inputs[b].Ids[t];
                mask[b * length + t] = 1;
            }
        }

        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, [batch, length]);
        var maskValue = OrtValue.CreateTensorValueFromMemory(mask, [batch, length]);
        try
        {
            // The graph scatters the features over the soft tokens in (row, position) order: row by row, image by image.
            int hidden = model.Config.Encoder.HiddenSize;
            using var image = OrtValue.CreateTensorValueFromMemory(imageFeatures, [imageFeatures.Length / hidden, hidden]);
            var outputs = model.Encoder.Session.Run(runOptions, [EncoderGraphNames.InputIds, EncoderGraphNames.AttentionMask, EncoderGraphNames.ImageFeatures], [idsValue, maskValue, image], [EncoderGraphNames.LastHiddenState]);
            return (outputs, maskValue);
        }
        catch
        {
            maskValue.Dispose();
            throw;
        }
    }

    /// <summary>Every layer's merged cache with the cross part written and <paramref name="selfCapacity"/> empty self slots.</summary>
    private static DecoderCache CrossCache(Seq2SeqModel model, OrtValue encoderStates, int selfCapacity, RunOptions runOptions)
    {
        using var capacity = OrtValue.CreateTensorValueFromMemory(new long[] { selfCapacity }, [1]);
        var outputs = model.CrossCache.Run(runOptions, [DecoderGraphNames.EncoderHiddenStates, DecoderGraphNames.SelfCapacity], [encoderStates, capacity], model.CrossCacheOutputs);
        return DecoderCache.FromCrossCache(outputs, model.Decoder.NumKeyValueHeads, model.Decoder.HeadDim, selfCapacity);
    }
}
