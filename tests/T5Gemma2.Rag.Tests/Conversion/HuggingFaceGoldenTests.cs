using System.Text.Json;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Conversion;

/// <summary>
/// The converted tiny encoder and decoder against goldens from transformers itself (tools/hf-reference/make_goldens.py run on
/// the same seeded checkpoint on the GPU machine, transformers 5.17). Should they be missing, the tests say that they
/// skipped and why.
/// </summary>
public sealed class HuggingFaceGoldenTests(SharedTinyT5Gemma2 tiny)
{
    private static readonly string s_goldens = Path.Combine(AppContext.BaseDirectory, "Conversion", "Goldens", $"tiny-seed{SharedTinyT5Gemma2.Seed}.json");

    [Fact]
    public void ConvertedEncoderMatchesTransformers()
    {
        if (!File.Exists(s_goldens))
        {
            Assert.Skip($"no Hugging Face goldens at tests/T5Gemma2.Rag.Tests/Conversion/Goldens/{Path.GetFileName(s_goldens)}: transformers cannot be installed here; produce them with tools/hf-reference/make_goldens.py on a machine that has it");
        }

        using var document = JsonDocument.Parse(File.ReadAllText(s_goldens));
        var root = document.RootElement;
        long[][] ids = [.. root.GetProperty("input_ids").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt64()).ToArray())];
        long[][] mask = [.. root.GetProperty("attention_mask").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt64()).ToArray())];
        var expected = root.GetProperty("last_hidden_state");

        float[] actual = EncoderParityTests.RunGraph(tiny.Conversion.EncoderGraphPath, ids, mask, imageFeatures: null);

        double worst = 0;
        int length = ids[0].Length, hidden = expected[0][0].GetArrayLength();
        for (int b = 0; b < ids.Length; b++)
        {
            for (int s = 0; s < length; s++)
            {
                for (int h = 0; mask[b][s] == 1 && h < hidden; h++)
                {
                    worst = Math.Max(worst, Math.Abs(expected[b][s][h].GetDouble() - actual[(b * length + s) * hidden + h]));
                }
            }
        }

        Assert.True(worst <= 1e-4, $"max abs difference to transformers {worst:E2}");
    }

    [Fact]
    public async Task DecoderMatchesTransformersLogitsAndGreedyTokens()
    {
        if (!File.Exists(s_goldens))
        {
            Assert.Skip($"no Hugging Face goldens at tests/T5Gemma2.Rag.Tests/Conversion/Goldens/{Path.GetFileName(s_goldens)}: transformers cannot be installed here; produce them with tools/hf-reference/make_goldens.py on a machine that has it");
        }

        using var document = JsonDocument.Parse(File.ReadAllText(s_goldens));
        var root = document.RootElement;
        using var generator = Encoder.Generation.Seq2SeqGenerator.Create(tiny.ConvertedDirectory);
        int[] sampleIds = [.. root.GetProperty("first_step_logit_ids").EnumerateArray().Select(v => v.GetInt32())];
        var rows = root.GetProperty("input_ids").EnumerateArray().ToArray();
        var masks = root.GetProperty("attention_mask").EnumerateArray().ToArray();
        for (int b = 0; b < rows.Length; b++)
        {
            // Only the row's unpadded tokens: padding is what the mask removes.
            int[] ids = [.. rows[b].EnumerateArray().Zip(masks[b].EnumerateArray()).Where(p => p.Second.GetInt32() == 1).Select(p => p.First.GetInt32())];
            float[] logits = generator.Logits(ids, [2], TestContext.Current.CancellationToken);
            double worst = sampleIds.Select((id, i) => Math.Abs(root.GetProperty("first_step_logits")[b][i].GetDouble() - logits[id])).Max();
            Assert.True(worst <= 1e-4, $"row {b}: max abs logit difference to transformers {worst:E2}");

            // Teacher-forced decoder ids longer than the sliding window: every position's logits.
            int[] forced = [.. root.GetProperty("forced_decoder_ids").EnumerateArray().Select(v => v.GetInt32())];
            float[] forcedLogits = generator.Logits(ids, forced, TestContext.Current.CancellationToken);
            int vocab = forcedLogits.Length / forced.Length;
            var expectedForced = root.GetProperty("forced_logits")[b];
            for (int t = 0; t < forced.Length; t++)
            {
                double worstAtT = sampleIds.Select((id, i) => Math.Abs(expectedForced[t][i].GetDouble() - forcedLogits[(t * vocab) + id])).Max();
                Assert.True(worstAtT <= 1e-4, $"row {b}, decoder position {t}: max abs logit difference to transformers {worstAtT:E2}");
            }

            var expected = root.GetProperty("greedy_tokens")[b].EnumerateArray().Select(v => v.GetInt32()).Skip(1).TakeWhile(t => t != 1).ToArray();
            var answer = (await generator.GenerateFromIdsAsync([ids], new Encoder.Generation.GenerationOptions { MaxNewTokens = 32 }, TestContext.Current.CancellationToken))[0];
            Assert.Equal(expected, answer.TokenIds.Take(expected.Length));
        }
    }
}
