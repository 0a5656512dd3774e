using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace T5Gemma2.Rag.Encoder.Tokenization;

/// <summary>
/// The Gemma 3 / T5Gemma 2 tokenizer, read from a Hugging Face <c>tokenizer.json</c> and equal to Hugging Face's own
/// tokenizer id for id. Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/> is the merge engine; this class adds what
/// version 2.0.1 lacks for this layout: added tokens matched on the raw text (leftmost-longest), space → U+2581,
/// byte fallback for characters outside the vocabulary, and Gemma decoding.
/// </summary>
/// <remarks>
/// The pipeline, in the order Hugging Face applies it:
/// <list type="number">
/// <item>Lone UTF-16 surrogates become U+FFFD (Hugging Face receives the text as UTF-8, where they cannot exist).</item>
/// <item>Added tokens are cut out of the raw text, leftmost first and longest at a position.</item>
/// <item>In each remaining segment, maximal runs of characters the vocabulary knows as one-code-point tokens (and
/// spaces) go to the BPE engine with spaces replaced by U+2581; every other code point becomes its UTF-8 bytes as
/// byte tokens. That equals Hugging Face's byte fallback because no merge involves a byte token.</item>
/// <item>Runs are cut before each U+2581 that follows another character, unless a vocabulary token spans that point:
/// no merge can then cross the cut, so the result is unchanged and short pieces hit the engine's word cache.</item>
/// </list>
/// Instances are immutable after <see cref="Create(string, bool?)"/> and safe to share between threads.
/// </remarks>
public sealed class GemmaTokenizer : Tokenizer
{
    private const char Metaspace = '\u2581';

    private readonly BpeTokenizer _bpe;
    private readonly AddedTokenMatcher _addedTokens;
    private readonly bool[] _knownBmp = new bool[char.MaxValue + 1];
    private readonly HashSet<int> _knownSupplementary = [];
    private readonly int[] _byteTokenIds = new int[256];
    private readonly short[] _byteValueById;
    private readonly string?[] _tokenById;
    private readonly bool[] _isSpecialById;
    private readonly Dictionary<string, int> _addedTokenIds;
    private readonly (string Token, int MetaspaceIndex)[] _boundaryTokens;
    private readonly bool _splitBeforeMetaspace;

    private GemmaTokenizer(GemmaTokenizerDefinition definition, GemmaTokenizerConfig config, bool? addBeginningOfSentence)
    {
        this._bpe = BpeTokenizer.Create(new BpeOptions(definition.Vocabulary)
        {
            Merges = definition.Merges,
            UnknownToken = definition.UnknownToken,
        });

        this._addedTokens = new AddedTokenMatcher(definition.AddedTokens);
        this._addedTokenIds = definition.AddedTokens.ToDictionary(t => t.Content, t => t.Id, StringComparer.Ordinal);

        int size = Math.Max(definition.Vocabulary.Values.Max(), definition.AddedTokens.Count == 0 ? 0 : definition.AddedTokens.Max(t => t.Id)) + 1;
        this._tokenById = new string?[size];
        this._isSpecialById = new bool[size];
        this._byteValueById = new short[size];
        Array.Fill(this._byteValueById, (short)-1);

        var boundaryTokens = new List<(string, int)>();
        foreach (var (token, id) in definition.Vocabulary)
        {
            this._tokenById[id] = token;
            if (Rune.DecodeFromUtf16(token, out var rune, out int consumed) == OperationStatus.Done && consumed == token.Length)
            {
                if (rune.IsBmp)
                {
                    this._knownBmp[rune.Value] = true;
                }
                else
                {
                    this._knownSupplementary.Add(rune.Value);
                }
            }

            for (int i = 1; i < token.Length; i++)
            {
                if (token[i] == Metaspace && token[i - 1] != Metaspace)
                {
                    boundaryTokens.Add((token, i));
                }
            }
        }

        // A space is known: the normalizer turns it into U+2581, which the definition checked is a token.
        this._knownBmp[' '] = true;
        for (int b = 0; b < 256; b++)
        {
            int id = definition.Vocabulary[GemmaTokenizerDefinition.ByteTokenName(b)];
            this._byteTokenIds[b] = id;
            this._byteValueById[id] = (short)b;
        }

        foreach (var added in definition.AddedTokens)
        {
            this._tokenById[added.Id] = added.Content;
            this._isSpecialById[added.Id] = added.IsSpecial;
        }

        // Cutting before U+2581 is only exact while few tokens span such a point (the Gemma 3 file has one: ">▁</").
        this._boundaryTokens = [.. boundaryTokens];
        this._splitBeforeMetaspace = boundaryTokens.Count <= 64;

        this.UnknownId = definition.Vocabulary[definition.UnknownToken];
        this.EndOfSentenceId = config.EosToken is null ? null : this.TryGetId(config.EosToken);
        this.PaddingId = config.PadToken is null ? null : this.TryGetId(config.PadToken);

        // transformers 5: when tokenizer_config.json sets add_bos_token or add_eos_token, they rebuild the template
        // ([bos] $A [eos] from the config's own token names; a flag that is absent counts as false); otherwise
        // tokenizer.json's post-processor decides.
        bool configDecides = config.AddBosToken is not null || config.AddEosToken is not null;
        string? bosToken = configDecides ? config.BosToken ?? definition.BeginningOfSentenceToken : definition.BeginningOfSentenceToken ?? config.BosToken;
        this.BeginningOfSentenceId = bosToken is null ? null : this.TryGetId(bosToken);
        this.AddBeginningOfSentence = this.BeginningOfSentenceId is not null
            && (addBeginningOfSentence ?? (configDecides ? config.AddBosToken == true : definition.BeginningOfSentenceToken is not null));
        string? appended = configDecides ? (config.AddEosToken == true ? config.EosToken : null) : definition.EndOfSentenceToken;
        this.AppendedEndId = appended is null ? null : this.TryGetId(appended);
    }

    /// <summary>The id the tokenizer puts first when <see cref="AddBeginningOfSentence"/> is set (<c>&lt;bos&gt;</c>), from the file's post-processor.</summary>
    public int? BeginningOfSentenceId { get; }

    /// <summary>The id the encoder input ends with (EmbeddingGemma's <c>&lt;eos&gt;</c>), or null when the template appends none (T5Gemma 2).</summary>
    public int? AppendedEndId { get; }

    /// <summary>The end-of-sequence id named by tokenizer_config.json, when one lies beside the tokenizer. Generation takes its stop id from the model's config instead.</summary>
    public int? EndOfSentenceId { get; }

    /// <summary>The padding id named by tokenizer_config.json, when one lies beside the tokenizer.</summary>
    public int? PaddingId { get; }

    /// <summary>The id of <c>model.unk_token</c>.</summary>
    public int UnknownId { get; }

    /// <summary>Whether the plain encode methods put <see cref="BeginningOfSentenceId"/> first (the file's default unless overridden at creation).</summary>
    public bool AddBeginningOfSentence { get; }

    /// <summary>One more than the largest id the tokenizer can produce or decode.</summary>
    public int VocabularySize => this._tokenById.Length;

    /// <summary>
    /// Loads a tokenizer from a <c>tokenizer.json</c> file or from a directory that holds one. A <c>tokenizer_config.json</c>
    /// beside it, when present, supplies <c>add_bos_token</c> and the names of the eos and pad tokens.
    /// </summary>
    /// <param name="path">The tokenizer.json file, or a model directory containing it.</param>
    /// <param name="addBeginningOfSentence">Overrides whether encoding puts the bos token first; null keeps the files' choice.</param>
    /// <exception cref="ModelFileException">The file is missing, unreadable, or not of the Gemma 3 layout.</exception>
    /// <remarks>Only load tokenizer files from a source you trust.</remarks>
    public static GemmaTokenizer Create(string path, bool? addBeginningOfSentence = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string file = Directory.Exists(path) ? Path.Combine(path, "tokenizer.json") : path;
        if (!File.Exists(file))
        {
            throw new ModelFileException(file, "not found; expected a Hugging Face tokenizer.json of the Gemma 3 / T5Gemma 2 family.");
        }

        var definition = GemmaTokenizerDefinition.Read(file);
        var config = GemmaTokenizerConfig.ReadBeside(file);
        return new GemmaTokenizer(definition, config, addBeginningOfSentence);
    }

    /// <summary>The id of an added or vocabulary token given by its exact text, or null.</summary>
    public int? TryGetId(string token)
    {
        if (this._addedTokenIds.TryGetValue(token, out int id))
        {
            return id;
        }

        return this._bpe.Vocabulary.TryGetValue(token, out id) ? id : null;
    }

    /// <summary>The vocabulary text of an id (<c>▁Hello</c>, <c>&lt;0x0A&gt;</c>, <c>&lt;eos&gt;</c>), or null for an id outside the vocabulary.</summary>
    public string? IdToToken(int id) => (uint)id < (uint)this._tokenById.Length ? this._tokenById[id] : null;

    /// <summary>The byte an id stands for when it is a byte-fallback token (&lt;0x41&gt; → 0x41), else −1.</summary>
    internal int ByteValue(int id) => (uint)id < (uint)this._byteValueById.Length ? this._byteValueById[id] : -1;

    /// <summary>Whether the id is an added token marked special (<c>&lt;pad&gt;</c>, <c>&lt;eos&gt;</c>, <c>&lt;bos&gt;</c>, image markers…).</summary>
    public bool IsSpecialToken(int id) => (uint)id < (uint)this._isSpecialById.Length && this._isSpecialById[id];

    /// <summary>Encodes text to ids, saying explicitly whether the bos token goes first and the eos token last.</summary>
    /// <remarks>The signature of <c>SentencePieceTokenizer.EncodeToIds</c>; the two trailing flags are ignored because the Gemma pipeline is fixed.</remarks>
    public IReadOnlyList<int> EncodeToIds(string text, bool addBeginningOfSentence, bool addEndOfSentence, bool considerPreTokenization = true, bool considerNormalization = true) =>
        this.EncodeToIds(text.AsSpan(), addBeginningOfSentence, addEndOfSentence, considerPreTokenization, considerNormalization);

    /// <inheritdoc cref="EncodeToIds(string, bool, bool, bool, bool)"/>
    public IReadOnlyList<int> EncodeToIds(ReadOnlySpan<char> text, bool addBeginningOfSentence, bool addEndOfSentence, bool considerPreTokenization = true, bool considerNormalization = true)
    {
        var ids = new List<int>(text.Length / 3 + 2);
        this.Encode(text, addBeginningOfSentence, ids, offsets: null);
        if (addEndOfSentence && this.EndOfSentenceId is int eos)
        {
            ids.Add(eos);
        }

        return ids;
    }

    /// <summary>
    /// Encodes untrusted text (retrieved documents, user questions) as plain text: strings that look like added tokens
    /// (<c>&lt;eos&gt;</c>, <c>&lt;start_of_image&gt;</c>) become ordinary pieces, never their special ids, so no document
    /// can end the input or inject an image marker. Hugging Face's <c>split_special_tokens=True</c>.
    /// </summary>
    public IReadOnlyList<int> EncodeToIdsAsPlainText(ReadOnlySpan<char> text) => this.EncodeToIdsAsPlainText(text, addBeginningOfSentence: false);

    /// <inheritdoc cref="EncodeToIdsAsPlainText(ReadOnlySpan{char})"/>
    /// <param name="text">The untrusted text.</param>
    /// <param name="addBeginningOfSentence">Whether the real <c>&lt;bos&gt;</c> goes first (the one special token the encoder input has).</param>
    public IReadOnlyList<int> EncodeToIdsAsPlainText(ReadOnlySpan<char> text, bool addBeginningOfSentence)
    {
        var ids = new List<int>(text.Length / 3 + 2);
        this.Encode(text, addBeginningOfSentence, ids, offsets: null, matchAddedTokens: false);
        return ids;
    }

    /// <summary>Decodes ids to text as Hugging Face does; with <paramref name="skipSpecialTokens"/>, special added tokens are left out.</summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var builder = new StringBuilder();
        var decoder = new GemmaByteFallbackDecoder(this);
        foreach (int id in ids)
        {
            if (!skipSpecialTokens || !this.IsSpecialToken(id))
            {
                decoder.Append(id, builder);
            }
        }

        decoder.Flush(builder);
        return builder.ToString();
    }

    /// <inheritdoc />
    public override string Decode(IEnumerable<int> ids) => this.Decode(ids, skipSpecialTokens: false);

    /// <inheritdoc />
    public override OperationStatus Decode(IEnumerable<int> ids, Span<char> destination, out int idsConsumed, out int charsWritten)
    {
        ArgumentNullException.ThrowIfNull(ids);

        // Text is committed only where no byte run is open, so a cut never splits a character.
        var builder = new StringBuilder();
        var decoder = new GemmaByteFallbackDecoder(this);
        int committedIds = 0, committedChars = 0, seen = 0;
        bool stopped = false;
        foreach (int id in ids)
        {
            if (!decoder.HasPendingBytes || !decoder.IsByteToken(id))
            {
                decoder.Flush(builder);
                if (builder.Length > destination.Length)
                {
                    stopped = true;
                    break;
                }

                committedIds = seen;
                committedChars = builder.Length;
            }

            decoder.Append(id, builder);
            seen++;
        }

        if (!stopped)
        {
            decoder.Flush(builder);
            if (builder.Length <= destination.Length)
            {
                committedIds = seen;
                committedChars = builder.Length;
            }
            else
            {
                stopped = true;
            }
        }

        builder.CopyTo(0, destination, committedChars);
        idsConsumed = committedIds;
        charsWritten = committedChars;
        return stopped ? OperationStatus.DestinationTooSmall : OperationStatus.Done;
    }

    /// <inheritdoc />
    /// <remarks>The normalization and pre-tokenization flags are ignored: the Gemma pipeline is fixed, and offsets always refer to the original text.</remarks>
    protected override EncodeResults<EncodedToken> EncodeToTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        var source = text is null ? textSpan : text.AsSpan();
        var ids = new List<int>();
        var offsets = new List<Range>();
        this.Encode(source, this.AddBeginningOfSentence, ids, offsets);
        int count = CountWithinLimit(offsets, settings.MaxTokenCount, source.Length, out int charsConsumed);
        var tokens = new List<EncodedToken>(count);
        for (int i = 0; i < count; i++)
        {
            tokens.Add(new EncodedToken(ids[i], this._tokenById[ids[i]] ?? "", offsets[i]));
        }

        return new EncodeResults<EncodedToken> { Tokens = tokens, NormalizedText = null, CharsConsumed = charsConsumed };
    }

    /// <inheritdoc />
    protected override EncodeResults<int> EncodeToIds(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        var source = text is null ? textSpan : text.AsSpan();
        var ids = new List<int>(source.Length / 3 + 2);
        if (settings.MaxTokenCount == int.MaxValue)
        {
            this.Encode(source, this.AddBeginningOfSentence, ids, offsets: null);
            return new EncodeResults<int> { Tokens = ids, NormalizedText = null, CharsConsumed = source.Length };
        }

        var offsets = new List<Range>();
        this.Encode(source, this.AddBeginningOfSentence, ids, offsets);
        int count = CountWithinLimit(offsets, settings.MaxTokenCount, source.Length, out int charsConsumed);
        ids.RemoveRange(count, ids.Count - count);
        return new EncodeResults<int> { Tokens = ids, NormalizedText = null, CharsConsumed = charsConsumed };
    }

    /// <inheritdoc />
    protected override int CountTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings) =>
        this.EncodeToIds(text, textSpan, settings).Tokens.Count;

    /// <inheritdoc />
    /// <remarks>
    /// The bos token counts as one token, from either end, as it does in <see cref="Tokenizer.CountTokens(string, bool, bool)"/>.
    /// A character encoded as several byte tokens is never cut apart.
    /// </remarks>
    protected override int GetIndexByTokenCount(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings, bool fromEnd, out string? normalizedText, out int tokenCount)
    {
        var source = text is null ? textSpan : text.AsSpan();
        normalizedText = null;
        var ids = new List<int>();
        var offsets = new List<Range>();
        this.Encode(source, this.AddBeginningOfSentence, ids, offsets);
        if (!fromEnd)
        {
            tokenCount = CountWithinLimit(offsets, settings.MaxTokenCount, source.Length, out int charsConsumed);
            return charsConsumed;
        }

        // The tail is encoded with bos too (when the tokenizer adds it), so bos takes one of the budget.
        int bosCount = this.AddBeginningOfSentence ? 1 : 0;
        int textTokens = offsets.Count - bosCount;
        int budget = Math.Max(0, settings.MaxTokenCount - bosCount);
        int first = bosCount + Math.Max(0, textTokens - budget);
        while (first > bosCount && first < offsets.Count && offsets[first].Equals(offsets[first - 1]))
        {
            first++;
        }

        tokenCount = offsets.Count - first + (settings.MaxTokenCount >= bosCount ? bosCount : 0);
        return first < offsets.Count ? offsets[first].Start.Value : source.Length;
    }

    /// <summary>How many leading tokens fit in <paramref name="maxTokenCount"/> without cutting a character's byte tokens apart.</summary>
    private static int CountWithinLimit(List<Range> offsets, int maxTokenCount, int textLength, out int charsConsumed)
    {
        if (maxTokenCount >= offsets.Count)
        {
            charsConsumed = textLength;
            return offsets.Count;
        }

        // The byte tokens of one character share its range; back off to before the character.
        int count = maxTokenCount;
        while (count > 0 && offsets[count].Equals(offsets[count - 1]))
        {
            count--;
        }

        charsConsumed = offsets[count].Start.Value;
        return count;
    }

    private void Encode(ReadOnlySpan<char> text, bool addBeginningOfSentence, List<int> ids, List<Range>? offsets, bool matchAddedTokens = true)
    {
        if (addBeginningOfSentence && this.BeginningOfSentenceId is int bos)
        {
            ids.Add(bos);
            offsets?.Add(new Range(0, 0));
        }

        if (text.IsEmpty)
        {
            return;
        }

        char[]? repaired = null;
        int lone = text.IndexOfAnyInRange('\uD800', '\uDFFF') < 0 ? -1 : IndexOfLoneSurrogate(text);
        if (lone >= 0)
        {
            // Hugging Face receives UTF-8, where a lone surrogate cannot exist; its binding substitutes U+FFFD.
            repaired = ArrayPool<char>.Shared.Rent(text.Length);
            var copy = repaired.AsSpan(0, text.Length);
            text.CopyTo(copy);
            for (int position = lone; position >= 0;)
            {
                copy[position] = '\uFFFD';
                int next = IndexOfLoneSurrogate(copy[(position + 1)..]);
                position = next < 0 ? -1 : position + 1 + next;
            }

            text = copy;
        }

        try
        {
            int position = 0;
            while (matchAddedTokens && this._addedTokens.TryFindNext(text, position, out int matchStart, out int matchLength, out int tokenId))
            {
                this.EncodeSegment(text, position, matchStart, ids, offsets);
                ids.Add(tokenId);
                offsets?.Add(new Range(matchStart, matchStart + matchLength));
                position = matchStart + matchLength;
            }

            this.EncodeSegment(text, position, text.Length, ids, offsets);
        }
        finally
        {
            if (repaired is not null)
            {
                ArrayPool<char>.Shared.Return(repaired);
            }
        }
    }

    private void EncodeSegment(ReadOnlySpan<char> text, int start, int end, List<int> ids, List<Range>? offsets)
    {
        int runStart = start;
        int i = start;
        Span<byte> utf8 = stackalloc byte[4];
        while (i < end)
        {
            char c = text[i];
            int width = 1;
            bool known;
            if (char.IsHighSurrogate(c) && i + 1 < end && char.IsLowSurrogate(text[i + 1]))
            {
                width = 2;
                known = this._knownSupplementary.Contains(char.ConvertToUtf32(c, text[i + 1]));
            }
            else
            {
                known = this._knownBmp[c];
            }

            if (!known)
            {
                this.EncodeKnownRun(text, runStart, i, ids, offsets);
                Rune.DecodeFromUtf16(text.Slice(i, width), out var rune, out _);
                int byteCount = rune.EncodeToUtf8(utf8);
                for (int b = 0; b < byteCount; b++)
                {
                    ids.Add(this._byteTokenIds[utf8[b]]);
                    offsets?.Add(new Range(i, i + width));
                }

                runStart = i + width;
            }

            i += width;
        }

        this.EncodeKnownRun(text, runStart, end, ids, offsets);
    }

    private void EncodeKnownRun(ReadOnlySpan<char> text, int start, int end, List<int> ids, List<Range>? offsets)
    {
        int length = end - start;
        if (length <= 0)
        {
            return;
        }

        char[] rented = ArrayPool<char>.Shared.Rent(length);
        try
        {
            var run = rented.AsSpan(0, length);
            text[start..end].Replace(run, ' ', Metaspace);
            int pieceStart = 0;
            if (this._splitBeforeMetaspace)
            {
                int k = 1;
                while (k < length)
                {
                    int next = run[k..].IndexOf(Metaspace);
                    if (next < 0)
                    {
                        break;
                    }

                    k += next;
                    if (run[k - 1] != Metaspace && !this.SpansBoundaryToken(run, k))
                    {
                        this.EncodeWord(run[pieceStart..k], start + pieceStart, ids, offsets);
                        pieceStart = k;
                    }

                    k++;
                }
            }

            this.EncodeWord(run[pieceStart..], start + pieceStart, ids, offsets);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(rented);
        }
    }

    private bool SpansBoundaryToken(ReadOnlySpan<char> run, int metaspaceIndex)
    {
        foreach (var (token, index) in this._boundaryTokens)
        {
            int tokenStart = metaspaceIndex - index;
            if (tokenStart >= 0 && run[tokenStart..].StartsWith(token, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private void EncodeWord(ReadOnlySpan<char> word, int offset, List<int> ids, List<Range>? offsets)
    {
        if (offsets is null)
        {
            ids.AddRange(this._bpe.EncodeToIds(word, considerPreTokenization: false, considerNormalization: false));
            return;
        }

        foreach (var token in this._bpe.EncodeToTokens(word, out _, considerPreTokenization: false, considerNormalization: false))
        {
            ids.Add(token.Id);
            offsets.Add(new Range(offset + token.Offset.Start.Value, offset + token.Offset.End.Value));
        }
    }

    /// <summary>The index of the first UTF-16 surrogate that is not half of a pair, or −1.</summary>
    private static int IndexOfLoneSurrogate(ReadOnlySpan<char> text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return i;
            }
        }

        return -1;
    }
}
