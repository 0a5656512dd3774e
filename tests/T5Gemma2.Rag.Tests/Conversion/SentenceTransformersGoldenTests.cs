using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.AI;
using T5Gemma2.Rag.Encoder.Checkpoints;
using T5Gemma2.Rag.Encoder.Conversion;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Conversion;

/// <summary>
/// The converted create-random layouts against sentence-transformers itself: tools/hf-reference/make_st_goldens.py run
/// (where transformers and sentence-transformers are installed) on the same seeded directories, which this test
/// recreates from the seed. Every prompt's <c>encode(prompt_name=…, truncate_dim=d, normalize_embeddings=True)</c> is
/// compared, for the texts without a literal special-token string. Should the goldens be missing, the test says that
/// it skipped and why.
/// </summary>
public sealed class SentenceTransformersGoldenTests
{
    private const int Seed = 20251207;
    private const double Tolerance = 1e-4;

    [Theory]
    [InlineData("embeddinggemma-tiny", RandomLayout.EmbeddingGemma)]
    [InlineData("st-t5gemma2-encoder-tiny", RandomLayout.SentenceTransformersT5Gemma2Encoder)]
    public async Task ConvertedLayoutMatchesSentenceTransformers(string name, RandomLayout layout)
    {
        string goldens = Path.Combine(AppContext.BaseDirectory, "Conversion", "Goldens", name + ".json");
        if (!File.Exists(goldens))
        {
            Assert.Skip($"no sentence-transformers goldens at tests/T5Gemma2.Rag.Tests/Conversion/Goldens/{name}.json: no machine with transformers was lent; produce them with tools/hf-reference/make_st_goldens.py (see tools/hf-reference/README.md)");
        }

        using var temp = new TempDirectory();
        string checkpoint = temp.Combine(name);
        RandomCheckpoint.Create(layout, T5Gemma2Preset.Tiny, Seed, checkpoint, TestAssets.GemmaTokenizerDirectory, TestContext.Current.CancellationToken);
        var converted = CheckpointConverter.Convert(checkpoint, temp.Combine("onnx"), cancellationToken: TestContext.Current.CancellationToken);
        using var generator = OnnxEmbeddingGenerator.Create(converted.OutputDirectory);
        using var document = JsonDocument.Parse(File.ReadAllText(goldens));
        var root = document.RootElement;
        string[] texts = [.. root.GetProperty("texts").EnumerateArray().Select(t => t.GetString()!)];
        bool[] special = [.. root.GetProperty("text_has_special_token_string").EnumerateArray().Select(f => f.GetBoolean())];
        int full = root.GetProperty("embedding_dimension").GetInt32();
        int[] compared = [.. Enumerable.Range(0, texts.Length).Where(i => !special[i])];

        double worst = 0;
        int checkedCases = 0;
        foreach (var @case in root.GetProperty("cases").EnumerateArray())
        {
            string[] names = [.. @case.GetProperty("prompt_names").EnumerateArray().Select(n => n.GetString()!)];
            if (names.Length == 0)
            {
                continue; // the no-prompt case: t5rag always embeds with one of the model's prompts
            }

            foreach (var encoded in @case.GetProperty("encode").EnumerateObject())
            {
                // Keys are "dim=N:normalize_embeddings=True|False"; t5rag truncates and renormalises, as ST with True.
                string[] parts = encoded.Name.Split(':');
                if (parts[1] != "normalize_embeddings=True")
                {
                    continue;
                }

                int dimensions = int.Parse(parts[0]["dim=".Length..], CultureInfo.InvariantCulture);
                var options = new EmbeddingGenerationOptions { Dimensions = dimensions == full ? null : dimensions }.WithPromptName(names[0]);
                var actual = await generator.GenerateAsync([.. compared.Select(i => texts[i])], options, TestContext.Current.CancellationToken);
                for (int k = 0; k < compared.Length; k++)
                {
                    var expected = encoded.Value[compared[k]];
                    Assert.Equal(expected.GetArrayLength(), actual[k].Vector.Length);
                    for (int h = 0; h < expected.GetArrayLength(); h++)
                    {
                        worst = Math.Max(worst, Math.Abs(expected[h].GetDouble() - actual[k].Vector.Span[h]));
                    }
                }

                checkedCases++;
            }
        }

        Assert.True(checkedCases > 0, $"{name}.json holds no prompt case to compare");
        Assert.True(worst <= Tolerance, $"{name}: max abs difference to sentence-transformers {worst:E2} > {Tolerance:E0}");
        TestContext.Current.TestOutputHelper?.WriteLine($"{name}: {checkedCases} prompt × dimension cases, max abs difference {worst:E2}");
    }
}
