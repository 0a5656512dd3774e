using System.Text.Json.Nodes;

namespace T5Gemma2.Rag.Tests.Tokenization;

/// <summary>
/// A hand-made tokenizer.json in the Gemma 3 layout with a vocabulary small enough to reason about:
/// &lt;pad&gt; 0, &lt;eos&gt; 1, &lt;bos&gt; 2, &lt;unk&gt; 3, bytes &lt;0x00&gt;..&lt;0xFF&gt; 4..259, then ▁ a b ab ▁a.
/// Tests change one field at a time to check that a different layout is refused by name.
/// </summary>
internal static class TinyGemmaTokenizerJson
{
    public const int Metaspace = 260, A = 261, B = 262, AB = 263, MetaspaceA = 264;

    public static int ByteId(int value) => 4 + value;

    public static JsonObject Create()
    {
        var vocab = new JsonObject { ["<pad>"] = 0, ["<eos>"] = 1, ["<bos>"] = 2, ["<unk>"] = 3 };
        for (int b = 0; b < 256; b++)
        {
            vocab[$"<0x{b:X2}>"] = ByteId(b);
        }

        vocab["\u2581"] = Metaspace;
        vocab["a"] = A;
        vocab["b"] = B;
        vocab["ab"] = AB;
        vocab["\u2581a"] = MetaspaceA;

        var added = new JsonArray();
        foreach (var (id, content) in new[] { (0, "<pad>"), (1, "<eos>"), (2, "<bos>"), (3, "<unk>") })
        {
            added.Add(new JsonObject
            {
                ["id"] = id, ["content"] = content, ["single_word"] = false, ["lstrip"] = false,
                ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
            });
        }

        return new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = added,
            ["normalizer"] = new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = " " }, ["content"] = "\u2581" },
            ["pre_tokenizer"] = new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["String"] = " " }, ["behavior"] = "MergedWithPrevious", ["invert"] = false },
            ["post_processor"] = new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = new JsonArray(new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<bos>", ["type_id"] = 0 } }, new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
                ["special_tokens"] = new JsonObject { ["<bos>"] = new JsonObject { ["id"] = "<bos>", ["ids"] = new JsonArray(2), ["tokens"] = new JsonArray("<bos>") } },
            },
            ["decoder"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["decoders"] = new JsonArray(
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = "\u2581" }, ["content"] = " " },
                    new JsonObject { ["type"] = "ByteFallback" },
                    new JsonObject { ["type"] = "Fuse" }),
            },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = "<unk>", ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null, ["fuse_unk"] = true, ["byte_fallback"] = true, ["ignore_merges"] = false,
                ["vocab"] = vocab,
                ["merges"] = new JsonArray(new JsonArray("a", "b"), new JsonArray("\u2581", "a")),
            },
        };
    }
}
