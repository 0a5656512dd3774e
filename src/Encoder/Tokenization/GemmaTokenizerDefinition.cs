using System.Text.Json;

namespace T5Gemma2.Rag.Encoder.Tokenization;

/// <summary>
/// What a Gemma 3 / T5Gemma 2 <c>tokenizer.json</c> holds, read with a streaming reader and checked against the one
/// layout <see cref="GemmaTokenizer"/> reproduces exactly. Anything else is refused with a message naming the field,
/// because tokenizing with a silently different pipeline gives wrong ids that nothing downstream can detect.
/// </summary>
internal sealed class GemmaTokenizerDefinition
{
    private const string Metaspace = "\u2581";

    private GemmaTokenizerDefinition(string filePath)
    {
        this.FilePath = filePath;
    }

    public string FilePath { get; }

    public Dictionary<string, int> Vocabulary { get; } = new(StringComparer.Ordinal);

    /// <summary>Merges as "left right" strings, the form <c>BpeOptions.Merges</c> takes (no vocab token contains a space).</summary>
    public List<string> Merges { get; } = [];

    public List<AddedToken> AddedTokens { get; } = [];

    public string UnknownToken { get; private set; } = "";

    /// <summary>The token the post-processor puts before every sequence, or null when it adds none.</summary>
    public string? BeginningOfSentenceToken { get; private set; }

    /// <summary>The special token the post-processor puts after the sequence (EmbeddingGemma's <c>&lt;eos&gt;</c>), or null.</summary>
    public string? EndOfSentenceToken { get; private set; }

    public static GemmaTokenizerDefinition Read(string filePath)
    {
        byte[] json;
        try
        {
            json = File.ReadAllBytes(filePath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModelFileException(filePath, $"cannot read the tokenizer file ({ex.Message}).", ex);
        }

        var definition = new GemmaTokenizerDefinition(filePath);
        try
        {
            definition.Parse(json);
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or OverflowException)
        {
            throw new ModelFileException(filePath, $"a value has the wrong JSON type ({ex.Message}); expected a Hugging Face tokenizer.json.", ex);
        }
        catch (JsonException ex)
        {
            throw new ModelFileException(filePath, $"not valid JSON at line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}; expected a Hugging Face tokenizer.json.", ex);
        }

        definition.Validate();
        return definition;
    }

    private void Parse(byte[] json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Skip });
        this.Expect(reader.Read() && reader.TokenType == JsonTokenType.StartObject, "", "a JSON object at the top level");
        bool sawModel = false, sawNormalizer = false, sawDecoder = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string name = reader.GetString()!;
            reader.Read();
            switch (name)
            {
                case "added_tokens":
                    this.ReadAddedTokens(ref reader);
                    break;
                case "normalizer":
                    sawNormalizer = true;
                    using (var normalizer = JsonDocument.ParseValue(ref reader))
                    {
                        this.CheckNormalizer(normalizer.RootElement);
                    }

                    break;
                case "pre_tokenizer":
                    using (var preTokenizer = JsonDocument.ParseValue(ref reader))
                    {
                        this.CheckPreTokenizer(preTokenizer.RootElement);
                    }

                    break;
                case "post_processor":
                    using (var postProcessor = JsonDocument.ParseValue(ref reader))
                    {
                        this.ReadPostProcessor(postProcessor.RootElement);
                    }

                    break;
                case "decoder":
                    sawDecoder = true;
                    using (var decoder = JsonDocument.ParseValue(ref reader))
                    {
                        this.CheckDecoder(decoder.RootElement);
                    }

                    break;
                case "model":
                    sawModel = true;
                    this.ReadModel(ref reader);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        this.Expect(sawModel, "model", "a BPE model section");
        this.Expect(sawNormalizer, "normalizer", "Replace(\" \" -> \"\u2581\")");
        this.Expect(sawDecoder, "decoder", "Sequence[Replace(\"\u2581\" -> \" \"), ByteFallback, Fuse]");
    }

    private void ReadAddedTokens(ref Utf8JsonReader reader)
    {
        this.Expect(reader.TokenType == JsonTokenType.StartArray, "added_tokens", "an array");
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            this.Expect(reader.TokenType == JsonTokenType.StartObject, "added_tokens", "an array of objects");
            int id = -1;
            string? content = null;
            bool special = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string property = reader.GetString()!;
                reader.Read();
                switch (property)
                {
                    case "id":
                        id = reader.GetInt32();
                        break;
                    case "content":
                        content = reader.GetString();
                        break;
                    case "special":
                        special = reader.GetBoolean();
                        break;
                    case "single_word" or "lstrip" or "rstrip" or "normalized":
                        // Hugging Face matches these tokens on the raw text only when all four flags are false; the Gemma files say so.
                        this.Expect(reader.TokenType == JsonTokenType.False, $"added_tokens[id {id}].{property}", "false (tokens matched on the raw text)");
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            this.Expect(id >= 0 && !string.IsNullOrEmpty(content), "added_tokens", "entries with an id and a non-empty content");
            this.AddedTokens.Add(new AddedToken(id, content!, special));
        }
    }

    private void CheckNormalizer(JsonElement normalizer)
    {
        // Either the bare Replace or a Sequence holding only it.
        if (normalizer.GetString("type") == "Sequence" && normalizer.TryGetProperty("normalizers", out var inner) && inner.GetArrayLength() == 1)
        {
            normalizer = inner[0];
        }

        this.Expect(IsReplace(normalizer, " ", Metaspace), "normalizer", "Replace(\" \" -> \"\u2581\") and nothing else (no NFKC, no dummy prefix)");
    }

    private void CheckPreTokenizer(JsonElement preTokenizer)
    {
        // Split(" ") runs after the normalizer has turned every space into U+2581, so it never splits: the segment is one BPE word.
        bool ok = preTokenizer.ValueKind == JsonValueKind.Null
            || (preTokenizer.GetString("type") == "Split"
                && preTokenizer.TryGetProperty("pattern", out var pattern)
                && pattern.GetString("String") == " "
                && !(preTokenizer.TryGetProperty("invert", out var invert) && invert.ValueKind == JsonValueKind.True));
        this.Expect(ok, "pre_tokenizer", "null or Split on the string \" \" (which never fires after the normalizer)");
    }

    private void ReadPostProcessor(JsonElement postProcessor)
    {
        if (postProcessor.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        this.Expect(postProcessor.GetString("type") == "TemplateProcessing" && postProcessor.TryGetProperty("single", out _), "post_processor", "null or TemplateProcessing");
        var single = postProcessor.GetProperty("single");
        string? leading = null, trailing = null;
        int sequences = 0;
        foreach (var piece in single.EnumerateArray())
        {
            if (piece.TryGetProperty("SpecialToken", out var specialToken))
            {
                // Gemma 3 / T5Gemma 2 put <bos> first; EmbeddingGemma's template also ends with <eos>.
                this.Expect(sequences == 0 ? leading is null : trailing is null, "post_processor.single", "at most one special token before the sequence and one after it");
                if (sequences == 0)
                {
                    leading = specialToken.GetString("id");
                }
                else
                {
                    trailing = specialToken.GetString("id");
                }
            }
            else if (piece.TryGetProperty("Sequence", out _))
            {
                sequences++;
            }
        }

        this.Expect(sequences == 1, "post_processor.single", "exactly one sequence");
        this.BeginningOfSentenceToken = leading;
        this.EndOfSentenceToken = trailing;
    }

    private void CheckDecoder(JsonElement decoder)
    {
        bool ok = decoder.GetString("type") == "Sequence"
            && decoder.TryGetProperty("decoders", out var steps)
            && steps.GetArrayLength() == 3
            && IsReplace(steps[0], Metaspace, " ")
            && steps[1].GetString("type") == "ByteFallback"
            && steps[2].GetString("type") == "Fuse";
        this.Expect(ok, "decoder", "Sequence[Replace(\"\u2581\" -> \" \"), ByteFallback, Fuse]");
    }

    private void ReadModel(ref Utf8JsonReader reader)
    {
        this.Expect(reader.TokenType == JsonTokenType.StartObject, "model", "an object");
        string? type = null;
        bool byteFallback = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string property = reader.GetString()!;
            reader.Read();
            switch (property)
            {
                case "type":
                    type = reader.GetString();
                    break;
                case "byte_fallback":
                    byteFallback = reader.TokenType == JsonTokenType.True;
                    break;
                case "unk_token":
                    this.UnknownToken = reader.GetString() ?? "";
                    break;
                case "dropout" or "continuing_subword_prefix" or "end_of_word_suffix":
                    this.Expect(reader.TokenType == JsonTokenType.Null, $"model.{property}", "null");
                    break;
                case "ignore_merges":
                    this.Expect(reader.TokenType == JsonTokenType.False, "model.ignore_merges", "false");
                    break;
                case "vocab":
                    this.ReadVocabulary(ref reader);
                    break;
                case "merges":
                    this.ReadMerges(ref reader);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        this.Expect(type == "BPE", "model.type", $"\"BPE\" (found \"{type}\")");
        this.Expect(byteFallback, "model.byte_fallback", "true");
    }

    private void ReadVocabulary(ref Utf8JsonReader reader)
    {
        this.Expect(reader.TokenType == JsonTokenType.StartObject, "model.vocab", "an object of token -> id");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string token = reader.GetString()!;
            reader.Read();
            this.Vocabulary[token] = reader.GetInt32();
        }
    }

    private void ReadMerges(ref Utf8JsonReader reader)
    {
        this.Expect(reader.TokenType == JsonTokenType.StartArray, "model.merges", "an array");
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType == JsonTokenType.String)
            {
                // The older "left right" form.
                this.Merges.Add(reader.GetString()!);
                continue;
            }

            this.Expect(reader.TokenType == JsonTokenType.StartArray, "model.merges", "[left, right] pairs or \"left right\" strings");
            reader.Read();
            string left = reader.GetString()!;
            reader.Read();
            string right = reader.GetString()!;
            this.Expect(reader.Read() && reader.TokenType == JsonTokenType.EndArray, "model.merges", "pairs of exactly two tokens");
            this.Merges.Add(string.Concat(left, " ", right));
        }
    }

    private void Validate()
    {
        this.Expect(this.Vocabulary.Count > 0, "model.vocab", "a non-empty vocabulary");
        foreach (string token in this.Vocabulary.Keys)
        {
            // The merge list is handed to the engine as "left right"; a space inside a token would make that ambiguous.
            this.Expect(!token.Contains(' ', StringComparison.Ordinal), "model.vocab", $"no token containing a space (found \"{token}\")");
        }

        this.Expect(this.Vocabulary.ContainsKey(Metaspace), "model.vocab", "the token \"\u2581\"");

        // Ids index tables of one entry per id: they must be dense-ish and non-negative, or a typo would allocate gigabytes.
        int limit = this.Vocabulary.Count + this.AddedTokens.Count;
        foreach (var (token, id) in this.Vocabulary)
        {
            this.Expect(id >= 0 && id < limit, "model.vocab", $"ids from 0 to {limit - 1} (\"{token}\" has {id})");
        }

        foreach (var added in this.AddedTokens)
        {
            this.Expect(added.Id < limit, "added_tokens", $"ids from 0 to {limit - 1} (\"{added.Content}\" has {added.Id})");
        }

        foreach (string merge in this.Merges)
        {
            int space = merge.IndexOf(' ', StringComparison.Ordinal);
            bool known = space > 0 && this.Vocabulary.ContainsKey(merge[..space]) && this.Vocabulary.ContainsKey(merge[(space + 1)..]);
            this.Expect(known, "model.merges", $"pairs of vocabulary tokens (found \"{merge}\")");
        }
        for (int b = 0; b < 256; b++)
        {
            this.Expect(this.Vocabulary.ContainsKey(ByteTokenName(b)), "model.vocab", $"byte-fallback tokens <0x00>..<0xFF> (missing {ByteTokenName(b)})");
        }

        this.Expect(this.Vocabulary.ContainsKey(this.UnknownToken), "model.unk_token", "a token of the vocabulary");
        if (this.BeginningOfSentenceToken is not null)
        {
            this.Expect(
                this.Vocabulary.ContainsKey(this.BeginningOfSentenceToken) || this.AddedTokens.Exists(t => t.Content == this.BeginningOfSentenceToken),
                "post_processor.special_tokens",
                $"the token \"{this.BeginningOfSentenceToken}\" to be in the vocabulary");
        }
    }

    internal static string ByteTokenName(int value) => $"<0x{value:X2}>";

    private static bool IsReplace(JsonElement element, string from, string to) =>
        element.GetString("type") == "Replace"
        && element.TryGetProperty("pattern", out var pattern)
        && pattern.GetString("String") == from
        && element.GetString("content") == to;

    private void Expect(bool condition, string field, string expected)
    {
        if (!condition)
        {
            string where = field.Length == 0 ? "" : $"field '{field}': ";
            throw new ModelFileException(this.FilePath, $"{where}expected {expected}; this is not the Gemma 3 / T5Gemma 2 tokenizer layout.");
        }
    }
}
