using Microsoft.ML.OnnxRuntime;

namespace T5Gemma2.Rag.Encoder.Generation;

/// <summary>
/// Beam search for one input: the batch holds the beams, the caches are reordered after each step to follow the
/// surviving beams, and hypotheses end at eos, scored by log-probability ÷ length^penalty.
/// </summary>
internal static class BeamSearchDecoder
{
    public static GenerationResult Search(Seq2SeqModel model, EncoderInput input, GenerationOptions options, RunOptions runOptions, CancellationToken cancellationToken)
    {
        var config = model.Config;
        int beams = options.NumBeams;
        using var prefill = Prefill.Run(model, Enumerable.Repeat(input, beams).ToArray(), Math.Min(options.MaxNewTokens, Prefill.InitialSelfCapacity), runOptions, cancellationToken);
        var (cache, steps) = (prefill.Cache, prefill.Steps);
        using var activity = T5RagTelemetry.Source.StartActivity("decode");
        var sequences = Enumerable.Range(0, beams).Select(_ => new List<int>()).ToArray();
        var scores = Enumerable.Range(0, beams).Select(b => b == 0 ? 0.0 : double.NegativeInfinity).ToArray();
        var finished = new List<(double Score, List<int> Ids)>();
        var logits = new float[model.Decoder.VocabSize];
        var logProbabilities = new float[model.Decoder.VocabSize];
        long[] tokens = [.. Enumerable.Repeat((long)config.BosTokenId, beams)];
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
                if (candidate.Token == config.EosTokenId)
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
            tokens = [.. sequences.Select(s => s.Count == 0 ? (long)config.PadTokenId : s[^1])];
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

        var state = new RowState(model.Tokenizer, options);
        foreach (int id in best)
        {
            state.Add(id, config.EosTokenId);
        }

        if (!state.Done)
        {
            state.Finish(reason);
        }

        activity?.SetTag("t5rag.decoder.tokens", state.Ids.Count);
        return new GenerationResult(state.Text, state.Ids, state.Reason, input.Ids.Length);
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
}
