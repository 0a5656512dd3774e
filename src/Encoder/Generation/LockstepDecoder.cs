using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;

namespace T5Gemma2.Rag.Encoder.Generation;

/// <summary>
/// Greedy or sampled decoding of a batch in lockstep: every step feeds each row's last token, and each row that is
/// not done picks its next one (repetition penalty, minimum length, then greedy or sampling); finished rows are fed
/// padding until all are done.
/// </summary>
internal static class LockstepDecoder
{
    /// <param name="onToken">Receives each row's text deltas as they are chosen (streaming), or null.</param>
    public static List<GenerationResult> Decode(Seq2SeqModel model, EncoderInput[] inputs, GenerationOptions options, Action<string>? onToken, RunOptions runOptions, CancellationToken cancellationToken)
    {
        var config = model.Config;
        int batch = inputs.Length;
        var clock = Stopwatch.StartNew();

        // Without the cache (a check of it), every step feeds all tokens and the self slots stay empty.
        using var prefill = Prefill.Run(model, inputs, options.UseCache ? Math.Min(options.MaxNewTokens, Prefill.InitialSelfCapacity) : 0, runOptions, cancellationToken);
        var (encodeTime, crossTime) = (prefill.EncodeTime, prefill.CrossCacheTime);
        var steps = prefill.Steps;
        using var activity = T5RagTelemetry.Source.StartActivity("decode");
        TimeSpan? firstStep = null;
        var states = inputs.Select(_ => new RowState(model.Tokenizer, options)).ToArray();
        var random = new Random(options.Seed ?? Environment.TickCount);
        var history = inputs.Select(_ => new List<long> { config.BosTokenId }).ToArray();
        var logits = new float[model.Decoder.VocabSize];
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
                    history[row].Add(config.PadTokenId);
                    continue;
                }

                steps.Logits(row, length - 1).CopyTo(logits);
                TokenSampler.ApplyRepetitionPenalty(logits, states[row].Ids, options.RepetitionPenalty);
                if (states[row].Ids.Count < options.MinNewTokens)
                {
                    logits[config.EosTokenId] = float.NegativeInfinity;
                }

                int next = options.Sample ? TokenSampler.Sample(logits, options, random) : TokenSampler.Greedy(logits);
                history[row].Add(next);
                string delta = states[row].Add(next, config.EosTokenId);
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

        activity?.SetTag("t5rag.decoder.tokens", states.Sum(s => s.Ids.Count));
        var timings = new GenerationTimings(encodeTime, crossTime, firstStep ?? TimeSpan.Zero, clock.Elapsed - encodeTime - crossTime);
        return [.. states.Select((s, i) => new GenerationResult(s.Text, s.Ids, s.Reason, inputs[i].Ids.Length) { Timings = timings })];
    }
}
