using System.Text.Json.Nodes;
using T5Gemma2.Rag.Encoder;
using T5Gemma2.Rag.Encoder.Tokenization;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Tokenization;

/// <summary>Loading: the Gemma layout is accepted, anything else is refused with a message naming the file and the field.</summary>
public sealed class GemmaTokenizerLayoutTests
{
    [Fact]
    public void TinyTokenizerInTheGemmaLayoutEncodesByBpeRulesAndByteFallback()
    {
        using var temp = new TempDirectory();
        string path = temp.Write("tokenizer.json", TinyGemmaTokenizerJson.Create().ToJsonString());

        var sut = GemmaTokenizer.Create(path);

        // "ab" merges by rank 0; " a" is ▁a by rank 1; 'c' is not in the vocabulary: byte 0x63.
        Assert.Equal(
            [2, TinyGemmaTokenizerJson.AB, TinyGemmaTokenizerJson.MetaspaceA, TinyGemmaTokenizerJson.ByteId('c')],
            sut.EncodeToIds("ab ac"));
        Assert.Equal("<bos>ab ac", sut.Decode(sut.EncodeToIds("ab ac")));
        Assert.Equal("ab ac", sut.Decode(sut.EncodeToIds("ab ac"), skipSpecialTokens: true));
        Assert.Equal(2, sut.BeginningOfSentenceId);
        Assert.Equal(3, sut.UnknownId);
    }

    public static TheoryData<string, string> Mutations => new()
    {
        { "model.type", """{"model":{"type":"WordPiece"}}""" },
        { "model.byte_fallback", """{"model":{"byte_fallback":false}}""" },
        { "model.ignore_merges", """{"model":{"ignore_merges":true}}""" },
        { "model.dropout", """{"model":{"dropout":0.1}}""" },
        { "model.continuing_subword_prefix", """{"model":{"continuing_subword_prefix":"##"}}""" },
        { "normalizer", """{"normalizer":{"type":"NFKC"}}""" },
        { "pre_tokenizer", """{"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false}}""" },
        { "decoder", """{"decoder":{"type":"ByteLevel"}}""" },
        { "added_tokens[id 0].normalized", """{"added_tokens":[{"id":0,"content":"<pad>","normalized":true}]}""" },
        { "added_tokens[id 0].lstrip", """{"added_tokens":[{"id":0,"content":"<pad>","lstrip":true}]}""" },
        { "model.vocab", """{"model":{"vocab":{"a b":5}}}""" },
        { "model.vocab", """{"model":{"vocab":{"zz":-4}}}""" },
        { "model.vocab", """{"model":{"vocab":{"zz":2000000000}}}""" },
        { "added_tokens", """{"added_tokens":[{"id":900000000,"content":"<pad>"}]}""" },
        { "model.merges", """{"model":{"merges":[["q","r"]]}}""" },
    };

    [Theory]
    [MemberData(nameof(Mutations))]
    public void DifferentLayoutIsRefusedNamingTheField(string field, string patch)
    {
        using var temp = new TempDirectory();
        var json = TinyGemmaTokenizerJson.Create();
        Merge(json, JsonNode.Parse(patch)!.AsObject());
        string path = temp.Write("tokenizer.json", json.ToJsonString());

        var error = Assert.Throws<ModelFileException>(() => GemmaTokenizer.Create(path));

        Assert.Equal(path, error.FilePath);
        Assert.Contains($"'{field}'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("""{"model":{"vocab":{"a":1.5}}}""")]
    [InlineData("""{"model":{"vocab":{"a":99999999999}}}""")]
    [InlineData("""{"added_tokens":[7]}""")]
    public void MalformedValuesAreReportedNotThrownRaw(string patch)
    {
        using var temp = new TempDirectory();
        var json = TinyGemmaTokenizerJson.Create();
        string text = json.ToJsonString();
        // Splice raw JSON so values that JsonNode would normalise reach the reader as written.
        var patchNode = JsonNode.Parse(patch)!.AsObject();
        if (patchNode.ContainsKey("added_tokens"))
        {
            json["added_tokens"] = patchNode["added_tokens"]!.DeepClone();
            text = json.ToJsonString();
        }
        else
        {
            string value = patch[(patch.IndexOf("\"a\":", StringComparison.Ordinal) + 4)..].TrimEnd('}');
            text = text.Replace("\"a\":261", "\"a\":" + value, StringComparison.Ordinal);
        }

        string path = temp.Write("tokenizer.json", text);

        var error = Assert.Throws<ModelFileException>(() => GemmaTokenizer.Create(path));

        Assert.Equal(path, error.FilePath);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void MissingByteTokensAreRefused()
    {
        using var temp = new TempDirectory();
        var json = TinyGemmaTokenizerJson.Create();
        json["model"]!["vocab"]!.AsObject().Remove("<0x7F>");
        string path = temp.Write("tokenizer.json", json.ToJsonString());

        var error = Assert.Throws<ModelFileException>(() => GemmaTokenizer.Create(path));

        Assert.Contains("<0x7F>", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        using var temp = new TempDirectory();
        string path = temp.Combine("nothing-here", "tokenizer.json");

        var error = Assert.Throws<ModelFileException>(() => GemmaTokenizer.Create(path));

        Assert.Equal(path, error.FilePath);
        Assert.Contains("not found", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DirectoryWithoutTokenizerJsonIsNamed()
    {
        using var temp = new TempDirectory();

        var error = Assert.Throws<ModelFileException>(() => GemmaTokenizer.Create(temp.Path));

        Assert.Equal(temp.Combine("tokenizer.json"), error.FilePath);
    }

    [Fact]
    public void TruncatedFileIsReportedAsInvalidJson()
    {
        using var temp = new TempDirectory();
        string full = TinyGemmaTokenizerJson.Create().ToJsonString();
        string path = temp.Write("tokenizer.json", full[..(full.Length / 2)]);

        var error = Assert.Throws<ModelFileException>(() => GemmaTokenizer.Create(path));

        Assert.Equal(path, error.FilePath);
        Assert.Contains("JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WrongValueTypeIsReportedNotThrownRaw()
    {
        using var temp = new TempDirectory();
        var json = TinyGemmaTokenizerJson.Create();
        json["model"]!["vocab"]!["a"] = "not-a-number";
        string path = temp.Write("tokenizer.json", json.ToJsonString());

        var error = Assert.Throws<ModelFileException>(() => GemmaTokenizer.Create(path));

        Assert.Equal(path, error.FilePath);
    }

    private static void Merge(JsonObject target, JsonObject patch)
    {
        foreach (var (key, value) in patch.ToList())
        {
            if (value is JsonObject child && target[key] is JsonObject existing)
            {
                Merge(existing, child);
            }
            else if (value is JsonArray list && target[key] is JsonArray existingList && list.Count == 1 && list[0] is JsonObject first && existingList[0] is JsonObject existingFirst)
            {
                Merge(existingFirst, first);
            }
            else
            {
                target[key] = value?.DeepClone();
            }
        }
    }
}
