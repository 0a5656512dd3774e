using System.Text.Json.Nodes;
using T5Gemma2.Rag.Encoder;
using T5Gemma2.Rag.Encoder.Tokenization;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Tokenization;

/// <summary>
/// Which special tokens frame the encoder input: tokenizer.json's template (<c>&lt;bos&gt; $A</c>, or EmbeddingGemma's
/// <c>&lt;bos&gt; $A &lt;eos&gt;</c>), unless tokenizer_config.json sets add_bos_token or add_eos_token, which rebuild it
/// as transformers 5 does (a flag that is absent counts as false).
/// </summary>
public sealed class GemmaEndOfSentenceTests
{
    private const int EndOfSentence = 1;

    [Theory]
    [InlineData(false, null, true, null)]
    [InlineData(true, null, true, EndOfSentence)]
    [InlineData(true, """{"add_bos_token": true, "bos_token": "<bos>", "eos_token": "<eos>"}""", true, null)]
    [InlineData(false, """{"add_eos_token": true, "bos_token": "<bos>", "eos_token": "<eos>"}""", false, EndOfSentence)]
    [InlineData(false, """{"add_bos_token": true, "add_eos_token": true, "bos_token": {"content": "<bos>"}, "eos_token": {"content": "<eos>"}}""", true, EndOfSentence)]
    [InlineData(true, """{"bos_token": "<bos>", "eos_token": "<eos>"}""", true, EndOfSentence)]
    public void TheTemplateOrTheConfigsFlagsDecideTheFramingTokens(bool templateEndsWithEos, string? tokenizerConfig, bool addsBos, int? appendedEnd)
    {
        using var temp = new TempDirectory();
        var json = TinyGemmaTokenizerJson.Create();
        if (templateEndsWithEos)
        {
            json["post_processor"]!["single"]!.AsArray().Add(new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<eos>", ["type_id"] = 0 } });
        }

        string path = temp.Write("tokenizer.json", json.ToJsonString());
        if (tokenizerConfig is not null)
        {
            temp.Write("tokenizer_config.json", tokenizerConfig);
        }

        var tokenizer = GemmaTokenizer.Create(path);

        Assert.Equal(addsBos, tokenizer.AddBeginningOfSentence);
        Assert.Equal(appendedEnd, tokenizer.AppendedEndId);
    }

    [Fact]
    public void TwoSpecialTokensAfterTheSequenceAreRefusedNamingTheField()
    {
        using var temp = new TempDirectory();
        var json = TinyGemmaTokenizerJson.Create();
        var single = json["post_processor"]!["single"]!.AsArray();
        single.Add(new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<eos>", ["type_id"] = 0 } });
        single.Add(new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<eos>", ["type_id"] = 0 } });
        string path = temp.Write("tokenizer.json", json.ToJsonString());

        var error = Assert.Throws<ModelFileException>(() => GemmaTokenizer.Create(path));

        Assert.Equal(path, error.FilePath);
        Assert.Contains("'post_processor.single'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }
}
