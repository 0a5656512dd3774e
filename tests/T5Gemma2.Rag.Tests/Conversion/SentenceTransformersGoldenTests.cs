using System.Text.Json;
using Microsoft.Extensions.AI;
using T5Gemma2.Rag.Encoder.Embeddings;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Conversion;

/// <summary>
/// The two tiny sentence-transformers layouts, converted and embedded by us, against sentence-transformers itself
/// (tools/hf-reference/make_st_goldens.py run on the same seeded checkpoints, written by <c>t5rag model create-random</c>):
/// every named prompt's <c>encode(prompt_name=…, normalize_embeddings=True)</c> at the full width and each Matryoshka
/// cut. Should the goldens be missing, the tests say that they skipped and why.
/// </summary>
public sealed class SentenceTransformersGoldenTests(SharedTinySentenceTransformers layouts)
{
    private const double Tolerance = 1e-4;

    [Theory]
    [InlineData("embeddinggemma")]
    [InlineData("st-t5gemma2-encoder")]
    public async Task EncodeMatchesSentenceTransformers(string layout)
    {
        string name = $"{layout}-tiny-seed{SharedTinySentenceTransformers.Seed}.json";
        string goldens = Path.Combine(AppContext.BaseDirectory, "Conversion", "Goldens", name);
        if (!File.Exists(goldens))
        {
            Assert.Skip($"no sentence-transformers goldens at tests/T5Gemma2.Rag.Tests/Conversion/Goldens/{name}: sentence-transformers cannot be installed here; produce them with tools/hf-reference/make_st_goldens.py on a machine that has it");
        }

        using var document = JsonDocument.Parse(File.ReadAllText(goldens));
        var root = document.RootElement;
        string[] texts = [.. root.GetProperty("texts").EnumerateArray().Select(t => t.GetString()!)];
        bool[] special = [.. root.GetProperty("text_has_special_token_string").EnumerateArray().Select(f => f.GetBoolean())];
        string model = layout == "embeddinggemma" ? layouts.EmbeddingGemma.OutputDirectory : layouts.StandaloneEncoder.OutputDirectory;
        using var generator = OnnxEmbeddingGenerator.Create(model, new OnnxEmbeddingGeneratorOptions { MaxLength = root.GetProperty("tokenizer").TryGetProperty("max_seq_length", out var max) && max.ValueKind == JsonValueKind.Number ? max.GetInt32() : null });
        double worst = 0;
        foreach (var testCase in root.GetProperty("cases").EnumerateArray())
        {
            var names = testCase.GetProperty("prompt_names").EnumerateArray().Select(n => n.GetString()!).ToList();
            if (names.Count == 0)
            {
                continue; // the no-prompt case: our generator always applies the model's prompts
            }

            foreach (var encoded in testCase.GetProperty("encode").EnumerateObject().Where(e => e.Name.EndsWith(":normalize_embeddings=True", StringComparison.Ordinal)))
            {
                int dimensions = int.Parse(encoded.Name["dim=".Length..encoded.Name.IndexOf(':', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
                var options = new EmbeddingGenerationOptions { Dimensions = dimensions }.WithPromptName(names[0]);
                // Texts that spell special tokens are kept as text by us, parsed as tokens by Hugging Face: not compared.
                var kept = Enumerable.Range(0, texts.Length).Where(i => !special[i]).ToList();
                var ours = await generator.GenerateAsync([.. kept.Select(i => texts[i])], options, TestContext.Current.CancellationToken);
                for (int k = 0; k < kept.Count; k++)
                {
                    var expected = encoded.Value[kept[k]];
                    var actual = ours[k].Vector.Span;
                    for (int d = 0; d < dimensions; d++)
                    {
                        worst = Math.Max(worst, Math.Abs(expected[d].GetDouble() - actual[d]));
                    }
                }
            }
        }

        Assert.True(worst <= Tolerance, $"max abs difference to sentence-transformers {worst:E2} > {Tolerance:E0}");
        TestContext.Current.TestOutputHelper?.WriteLine($"{layout}: max abs difference to sentence-transformers {worst:E2}");
    }
}
