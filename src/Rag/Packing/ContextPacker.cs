using System.Globalization;
using System.Text;
using T5Gemma2.Rag.Encoder.Tokenization;
using T5Gemma2.Rag.Retrieval;

namespace T5Gemma2.Rag.Packing;

/// <summary>
/// Packs a question and retrieved passages into T5Gemma 2's long-context encoder input within a token budget:
/// numbered passage markers with title and source, the question before or after them, passages in score or document
/// order, the last one cut at a token boundary when the budget ends inside it. All text — template, question and
/// documents — is encoded as plain text (<see cref="GemmaTokenizer.EncodeToIdsAsPlainText(ReadOnlySpan{char})"/>), so document text that
/// looks like <c>&lt;eos&gt;</c> or <c>&lt;start_of_image&gt;</c> can never become a special token; only the bos is added.
/// </summary>
public sealed class ContextPacker
{
    private readonly GemmaTokenizer _tokenizer;
    private readonly int _maxPositions;

    /// <param name="tokenizer">The answering model's tokenizer.</param>
    /// <param name="maxPositions">The encoder's maximum input length (max_position_embeddings).</param>
    public ContextPacker(GemmaTokenizer tokenizer, int maxPositions)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPositions, 16);
        this._tokenizer = tokenizer;
        this._maxPositions = maxPositions;
    }

    /// <summary>Builds the encoder input.</summary>
    /// <exception cref="ArgumentException">The question is empty, or the template and question alone exceed the budget.</exception>
    public PackedContext Pack(string question, IReadOnlyList<RetrievedPassage> passages, PackingOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(question);
        ArgumentNullException.ThrowIfNull(passages);
        options ??= PackingOptions.Default;
        int budget = Math.Min(options.TokenBudget ?? this._maxPositions, this._maxPositions);
        ArgumentOutOfRangeException.ThrowIfLessThan(budget, 16, "options.TokenBudget");

        var ids = new List<int>(budget);
        if (this._tokenizer.BeginningOfSentenceId is int bos)
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
        int leftOut = 0;
        foreach (var passage in Ordered(passages, options.Order))
        {
            int number = packed.Count + 1;
            int[] header = this.Plain(Header(options.PassageHeader, number, passage) + "\n");
            int[] body = this.Plain(passage.Text.Trim() + "\n\n");
            int room = budget - ids.Count - reserved - header.Length;
            if (room >= body.Length)
            {
                ids.AddRange(header);
                ids.AddRange(body);
                packed.Add(new PackedPassage(number, passage, header.Length + body.Length, Truncated: false));
            }
            else if (room >= Math.Max(options.MinimumTruncatedPassageTokens, separator.Length + 1))
            {
                // Cut at a token boundary, ending the passage with a blank line like the others; at least one token
                // of it, whatever the minimum says, or the cut would be negative.
                int take = room - separator.Length;
                ids.AddRange(header);
                ids.AddRange(body.AsSpan(0, take));
                ids.AddRange(separator);
                packed.Add(new PackedPassage(number, passage, header.Length + take + separator.Length, Truncated: true));
            }
            else
            {
                leftOut++;
            }
        }

        if (options.QuestionPlacement == QuestionPlacement.AfterPassages)
        {
            ids.AddRange(questionIds);
        }

        ids.AddRange(answer);
        int[] input = [.. ids];
        return new PackedContext(input, this._tokenizer.Decode(input, skipSpecialTokens: false), packed, leftOut, budget);
    }

    private int[] Plain(string text) => [.. this._tokenizer.EncodeToIdsAsPlainText(text)];

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
