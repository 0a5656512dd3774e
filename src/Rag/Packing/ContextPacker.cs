using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;
using T5Gemma2.Rag.Encoder;
using T5Gemma2.Rag.Encoder.Models;
using T5Gemma2.Rag.Encoder.Tokenization;
using T5Gemma2.Rag.Indexer.Documents;
using T5Gemma2.Rag.Retrieval;

namespace T5Gemma2.Rag.Packing;

/// <summary>
/// Packs a question and retrieved passages into T5Gemma 2's long-context encoder input within a token budget:
/// numbered passage markers with title and source, the question before or after them, passages in score or document
/// order, the last one cut at a token boundary when the budget ends inside it. All text — template, question and
/// documents — is encoded as plain text (<see cref="GemmaTokenizer.EncodeToIdsAsPlainText(ReadOnlySpan{char})"/>), so document text that
/// looks like <c>&lt;eos&gt;</c> or <c>&lt;start_of_image&gt;</c> can never become a special token; only the bos is added.
/// </summary>
/// <remarks>
/// With a vision model, an image passage goes in as the image itself: its header, the image's block (<c>"\n\n"</c>,
/// begin-of-image, the soft tokens, end-of-image, <c>"\n\n"</c>, all counted against the budget and never cut), then
/// its nearby text, which may be cut like a text passage's. The question's own images follow the question. Without a
/// vision model an image passage is its nearby text, and one without text is left out.
/// </remarks>
public sealed class ContextPacker
{
    private readonly Func<string, int[]> _plain;
    private readonly Func<int[], string> _decode;
    private readonly int? _beginningOfSentenceId;
    private readonly int _maxPositions;
    private readonly int[]? _imageBlock;

    /// <param name="tokenizer">The answering model's tokenizer.</param>
    /// <param name="maxPositions">The encoder's maximum input length (max_position_embeddings).</param>
    /// <param name="vision">The answering model's image settings, when it takes images (ModelDirectory.Vision).</param>
    public ContextPacker(GemmaTokenizer tokenizer, int maxPositions, VisionConfig? vision = null)
        : this(text => [.. tokenizer.EncodeToIdsAsPlainText(text)], ids => tokenizer.Decode(ids, skipSpecialTokens: false), Require(tokenizer).BeginningOfSentenceId, maxPositions)
    {
        if (vision is not null)
        {
            int[] newlines = this.Plain("\n\n");
            this._imageBlock = [.. newlines, vision.BeginOfImageTokenId, .. Enumerable.Repeat(vision.ImageTokenId, vision.TokensPerImage), vision.EndOfImageTokenId, .. newlines];
        }
    }

    private ContextPacker(Func<string, int[]> plain, Func<int[], string> decode, int? beginningOfSentenceId, int maxPositions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPositions, 16);
        this._plain = plain;
        this._decode = decode;
        this._beginningOfSentenceId = beginningOfSentenceId;
        this._maxPositions = maxPositions;
    }

    /// <summary>
    /// A packer for a chat model that reads the context as text (an OpenAI-compatible or Ollama answerer): the same
    /// template and numbering, no bos and no images, the budget counted with <paramref name="tokenizer"/>, which need
    /// only be close to the chat model's own (its ids are never sent).
    /// </summary>
    /// <param name="tokenizer">Counts the tokens; one that decodes its ids back to the same text (a byte-level BPE such as tiktoken's).</param>
    /// <param name="contextTokens">Tokens the context may hold at most.</param>
    public static ContextPacker ForChatModel(Tokenizer tokenizer, int contextTokens)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return new ContextPacker(text => [.. tokenizer.EncodeToIds(text)], ids => tokenizer.Decode(ids), null, contextTokens);
    }

    /// <summary>Whether image passages and question images go in as images (the answering model has a vision graph).</summary>
    public bool TakesImages => this._imageBlock is not null;

    /// <summary>Builds the encoder input.</summary>
    /// <param name="questionImages">The question's own images, placed after its text; they need a vision model.</param>
    /// <exception cref="ArgumentException">The question is empty, the template, question and its images alone exceed the budget, or images were given to a text-only packer.</exception>
    /// <param name="reservedTokens">Tokens of the model's window the context must leave free: a chat model's system message and its answer share the window the context is counted against.</param>
    public PackedContext Pack(string question, IReadOnlyList<RetrievedPassage> passages, PackingOptions? options = null, IReadOnlyList<PassageImage>? questionImages = null, int reservedTokens = 0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(question);
        ArgumentNullException.ThrowIfNull(passages);
        using var activity = T5RagTelemetry.Source.StartActivity("pack");
        options ??= PackingOptions.Default;
        questionImages ??= [];
        if (questionImages.Count > 0 && this._imageBlock is null)
        {
            throw new ArgumentException($"the question has {questionImages.Count} image(s), but the answering model takes no images (it has no vision graph).", nameof(questionImages));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(reservedTokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.FirstNumber, 1, "options.FirstNumber");
        int budget = Math.Min(options.TokenBudget ?? this._maxPositions, this._maxPositions - reservedTokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(budget, 16, "options.TokenBudget");

        var ids = new List<int>(budget);
        if (this._beginningOfSentenceId is int bos)
        {
            ids.Add(bos);
        }

        int[] instruction = this.Plain(options.Instruction.Length > 0 ? options.Instruction + "\n\n" : string.Empty);

        // Before the passages the question is followed by a blank line; it is part of what the question costs.
        bool questionFirst = options.QuestionPlacement == QuestionPlacement.BeforePassages;
        int[] questionIds = this.Plain(options.QuestionTemplate.Replace("{question}", question.Trim(), StringComparison.Ordinal) + "\n");
        if (questionFirst)
        {
            questionIds = [.. questionIds, .. this.Plain("\n")];
        }

        for (int i = 0; i < questionImages.Count; i++)
        {
            questionIds = [.. questionIds, .. this._imageBlock!];
        }

        int[] answer = this.Plain(options.AnswerPrefix);
        int[] separator = this.Plain("\n\n");
        int fixedCost = ids.Count + instruction.Length + questionIds.Length + answer.Length;
        if (fixedCost > budget)
        {
            throw new ArgumentException($"the question needs {fixedCost} tokens with the template; the budget is {budget}. Shorten the question or raise the budget.", nameof(question));
        }

        ids.AddRange(instruction);
        if (questionFirst)
        {
            ids.AddRange(questionIds);
        }

        int reserved = answer.Length + (questionFirst ? 0 : questionIds.Length);
        var packed = new List<PackedPassage>();
        var images = new List<PassageImage>(questionFirst ? questionImages : []);
        int leftOut = 0;
        foreach (var passage in Ordered(passages, options.Order))
        {
            int number = options.FirstNumber + packed.Count;
            bool asImage = passage is { Kind: PassageKind.Image, Image: not null } && this._imageBlock is not null;
            if (passage.Kind == PassageKind.Image && !asImage && string.IsNullOrWhiteSpace(passage.Text))
            {
                leftOut++; // an image without nearby text says nothing to a model that cannot see it
                continue;
            }

            int[] header = this.Plain(Header(options.PassageHeader, number, passage) + "\n");
            int[] block = asImage ? this._imageBlock! : [];
            int[] body = this.Plain(passage.Text.Trim() + "\n\n");
            int room = budget - ids.Count - reserved - header.Length - block.Length;
            if (room >= body.Length)
            {
                ids.AddRange(header);
                ids.AddRange(block);
                ids.AddRange(body);
                packed.Add(new PackedPassage(number, passage, header.Length + block.Length + body.Length, Truncated: false));
            }
            else if (room >= Math.Max(options.MinimumTruncatedPassageTokens, separator.Length + 1) || (asImage && room >= 0))
            {
                // Cut at a token boundary, ending the passage with a blank line like the others; at least one token
                // of it, whatever the minimum says, or the cut would be negative. An image is never cut: its text is.
                int take = Math.Max(room - separator.Length, 0);
                ids.AddRange(header);
                ids.AddRange(block);
                ids.AddRange(body.AsSpan(0, take));
                ids.AddRange(separator.AsSpan(0, Math.Min(separator.Length, room - take)));
                packed.Add(new PackedPassage(number, passage, header.Length + block.Length + take + Math.Min(separator.Length, room - take), Truncated: true));
            }
            else
            {
                leftOut++;
                continue;
            }

            if (asImage)
            {
                images.Add(passage.Image!);
            }
        }

        if (options.QuestionPlacement == QuestionPlacement.AfterPassages)
        {
            ids.AddRange(questionIds);
            images.AddRange(questionImages);
        }

        ids.AddRange(answer);
        int[] input = [.. ids];
        activity?.SetTag("t5rag.pack.passages", packed.Count).SetTag("t5rag.pack.left_out", leftOut).SetTag("t5rag.pack.tokens", input.Length).SetTag("t5rag.pack.budget", budget);
        return new PackedContext(input, this._decode(input), packed, leftOut, budget) { Images = images };
    }

    /// <summary>The tokens <paramref name="text"/> costs as plain text in this packer's count.</summary>
    public int CountTokens(string text) => this.Plain(text).Length;

    // Checked while the constructor's arguments are evaluated, before the lambdas that use it can run.
    private static GemmaTokenizer Require(GemmaTokenizer tokenizer) => tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));

    private int[] Plain(string text) => this._plain(text);

    private static IEnumerable<RetrievedPassage> Ordered(IReadOnlyList<RetrievedPassage> passages, PassageOrder order) => order switch
    {
        PassageOrder.ByDocument => passages
            .Select((p, rank) => (p, rank))
            .GroupBy(x => x.p.DocumentId, StringComparer.Ordinal)
            .OrderBy(g => g.Min(x => x.rank))
            .SelectMany(g => g.OrderBy(x => x.p.Start).Select(x => x.p)),
        _ => passages.OrderByDescending(p => p.Score),
    };

    private static string Header(string template, int number, RetrievedPassage passage)
    {
        var location = new StringBuilder();
        if (!string.IsNullOrWhiteSpace(passage.SectionPath) && passage.SectionPath != passage.Title)
        {
            location.Append(" › ").Append(passage.SectionPath);
        }

        if (passage.Page is int page)
        {
            location.Append(location.Length > 0 ? ", p. " : " › p. ").Append(page.ToString(CultureInfo.InvariantCulture));
        }

        return template
            .Replace("{n}", number.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{title}", passage.Title ?? Path.GetFileName(passage.Source), StringComparison.Ordinal)
            .Replace("{source}", passage.Source, StringComparison.Ordinal)
            .Replace("{location}", location.ToString(), StringComparison.Ordinal);
    }
}
