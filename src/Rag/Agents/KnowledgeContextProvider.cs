using System.ComponentModel;
using System.Text.Json;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using T5Gemma2.Rag.Answering;
using T5Gemma2.Rag.Indexer.Stores;
using T5Gemma2.Rag.Packing;
using T5Gemma2.Rag.Retrieval;
using T5Gemma2.Rag.SemanticKernel;

namespace T5Gemma2.Rag.Agents;

/// <summary>
/// The knowledge base as a Microsoft Agent Framework context provider: before a run, it retrieves passages for the
/// conversation's latest user message with <see cref="PassageRetriever"/> (hybrid search, the host's filter, reranking
/// when configured), packs them within a token budget numbered [1]..[n] with their title and source
/// (<see cref="ContextPacker"/>), adds them to the model's messages, and records in the session which passages it gave
/// (<see cref="GetCitations"/>), so the application can show the sources and which of them the answer cited.
/// </summary>
/// <remarks>
/// <para>Add it to an agent with <c>new ChatClientAgentOptions { AIContextProviders = [provider] }</c>. One provider
/// serves many sessions: what it gave is kept in each session's StateBag, not in the provider.</para>
/// <para>Under <see cref="ContextRetrieval.OnSearchCall"/> it adds no passages of its own but a search function
/// (<see cref="KnowledgeContextOptions.FunctionName"/>) whose results are packed, numbered and recorded the same way;
/// passages given twice in one turn are numbered on, so each [n] names one passage.</para>
/// <para>The model's arguments are untrusted: the function's <c>source</c> and <c>documentId</c> narrow the host's
/// filter (<see cref="RetrievalOptions.Filter"/>, <see cref="PassageFilter.Intersect"/>) and never widen it, and what
/// it can correct (an empty query, a filter that matches nothing, an empty collection, a collection of another
/// embedding model) comes back as the result's <see cref="ContextSearchResult.Error"/>, not as an exception.</para>
/// </remarks>
public sealed class KnowledgeContextProvider : AIContextProvider
{
    private readonly PassageRetriever _retriever;
    private readonly KnowledgeContextOptions _options;
    private readonly HostScope _scope;
    private readonly ContextPacker _packer;
    private readonly ProviderSessionState<KnowledgeContextState> _state;

    // Numbering and recording one retrieval's passages is one step, so two function calls of a turn never share a number.
    private readonly Lock _recording = new();

    /// <param name="retriever">Searches the collection.</param>
    /// <param name="options">What to retrieve, the budget, when, and the host's filter; null: the defaults.</param>
    /// <exception cref="ArgumentException">An option cannot work, or the instruction alone exceeds the token budget.</exception>
    public KnowledgeContextProvider(PassageRetriever retriever, KnowledgeContextOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(retriever);
        this._retriever = retriever;
        this._options = options ?? new KnowledgeContextOptions();
        this._options.Validate();
        this._scope = new HostScope(this._options.Retrieval.Filter);
        this._packer = ContextPacker.ForChatModel(this._options.Tokenizer ?? ChatTokenizer.Default, this._options.TokenBudget);
        if (this._packer.CountTokens(this._options.Instruction) + 16 > this._options.TokenBudget)
        {
            throw new ArgumentException($"KnowledgeContextOptions.Instruction takes {this._packer.CountTokens(this._options.Instruction)} tokens; TokenBudget {this._options.TokenBudget} leaves no room for passages.", nameof(options));
        }

        this._state = new ProviderSessionState<KnowledgeContextState>(_ => new KnowledgeContextState(), this._options.StateKey, JsonSerializerOptions.Web);
    }

    /// <inheritdoc />
    public override IReadOnlyList<string> StateKeys => [this._state.StateKey];

    /// <summary>
    /// The passages given to the model in the session's latest turn, numbered as the model saw them, each marked
    /// <see cref="Citation.Cited"/> when the agent's answer used its [n]; empty before the first turn, or when nothing was found.
    /// </summary>
    public IReadOnlyList<Citation> GetCitations(AgentSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        lock (this._recording)
        {
            return [.. this._state.GetOrInitializeState(session).Citations];
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// A chat history kept by the agent (<c>InMemoryChatHistoryProvider</c>) stores the context messages of earlier turns
    /// with the rest and hands them back: they are left out of the request, so the passages the model reads, and
    /// their numbers, are the latest turn's only. (The history keeps them; its own filter can leave them out of it.)
    /// </remarks>
    protected override async ValueTask<AIContext> InvokingCoreAsync(InvokingContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var merged = await base.InvokingCoreAsync(context, cancellationToken).ConfigureAwait(false);
        if (merged.Messages is { } messages)
        {
            string turn;
            lock (this._recording)
            {
                turn = this._state.GetOrInitializeState(context.Session).Turn;
            }

            merged.Messages = [.. messages.Where(m => this.TurnOf(m) is not { } given || given == turn)];
        }

        return merged;
    }

    /// <inheritdoc />
    protected override async ValueTask<AIContext> ProvideAIContextAsync(InvokingContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var session = context.Session;
        var state = new KnowledgeContextState();
        lock (this._recording)
        {
            // A new turn: the sources shown for it are the ones given in it.
            this._state.SaveState(session, state);
        }

        if (this._options.Retrieve == ContextRetrieval.OnSearchCall)
        {
            return new AIContext { Tools = [this.SearchFunction(session)] };
        }

        // The messages here are the run's input (the base class leaves out chat history): the latest user message is this turn's.
        if (context.AIContext.Messages?.LastOrDefault(m => m.Role == ChatRole.User) is not { } latest || string.IsNullOrWhiteSpace(latest.Text))
        {
            return new AIContext();
        }

        var given = await this.GiveAsync(session, latest.Text.Trim(), PassageFilter.None, cancellationToken).ConfigureAwait(false);
        return given.Context is { } text
            ? new AIContext { Messages = [new ChatMessage(ChatRole.User, text) { AdditionalProperties = new() { [this.TurnKey] = state.Turn } }] }
            : new AIContext();
    }

    /// <inheritdoc />
    protected override ValueTask StoreAIContextAsync(InvokedContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        string answer = string.Join('\n', (context.ResponseMessages ?? []).Where(m => m.Role == ChatRole.Assistant).Select(m => m.Text));
        var cited = RagAnswerer.CitedNumbers(answer);
        if (cited.Count > 0)
        {
            lock (this._recording)
            {
                var state = this._state.GetOrInitializeState(context.Session);
                state.Citations = [.. state.Citations.Select(c => cited.Contains(c.Number) ? c with { Cited = true } : c)];
                this._state.SaveState(context.Session, state);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Where a context message keeps the turn it was given in.</summary>
    private string TurnKey => this._state.StateKey + ".turn";

    /// <summary>The turn a message was given in, when it is one of this provider's context messages (its property read back as it was stored, a string or JSON).</summary>
    private string? TurnOf(ChatMessage message) =>
        message.AdditionalProperties?.TryGetValue(this.TurnKey, out object? turn) == true ? turn?.ToString() : null;

    /// <summary>The search function of one session's run: what it gives is recorded in that session.</summary>
    private AIFunction SearchFunction(AgentSession? session) => AIFunctionFactory.Create(
        (
            [Description("What to look for: a question or keywords.")] string query,
            [Description("Only passages whose source (file path or URI) starts with this.")] string? source = null,
            [Description("Only passages of the document with this id.")] string? documentId = null,
            CancellationToken cancellationToken = default) => this.SearchAsync(session, query, source, documentId, cancellationToken),
        new AIFunctionFactoryOptions { Name = this._options.FunctionName, Description = this._options.FunctionDescription });

    private async Task<ContextSearchResult> SearchAsync(AgentSession? session, string? query, string? source, string? documentId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(query))
        {
            return new ContextSearchResult(null, "the query is empty; give a question or keywords to search for.");
        }

        try
        {
            return await this.GiveAsync(session, query.Trim(), RetrievalOverrides.CallerFilter(source, documentId), cancellationToken).ConfigureAwait(false);
        }
        catch (T5RagException ex) when (ex.Kind is FailureKind.ModelMismatch)
        {
            // A model told the collection belongs to another embedding model stops retrying.
            return new ContextSearchResult(null, ex.Message);
        }
    }

    /// <summary>Retrieves within the host's filter narrowed by <paramref name="asked"/>, packs within the budget, numbers on from what the turn was given, and records it.</summary>
    private async Task<ContextSearchResult> GiveAsync(AgentSession? session, string query, PassageFilter asked, CancellationToken cancellationToken)
    {
        var collection = this._retriever.Collection;
        if (this._options.Retrieval.Narrowed(this._options.Retrieval.Top, asked) is not { } retrieval)
        {
            return new ContextSearchResult(null, await this._scope.ExplainNothingFoundAsync(collection, asked, null, cancellationToken).ConfigureAwait(false));
        }

        var passages = await this._retriever.RetrieveAsync(query, retrieval, cancellationToken).ConfigureAwait(false);
        if (passages.Count == 0)
        {
            return new ContextSearchResult(null, await this._scope.ExplainNothingFoundAsync(collection, asked, retrieval.ScoreThreshold, cancellationToken).ConfigureAwait(false));
        }

        PackedContext packed;
        lock (this._recording)
        {
            var state = this._state.GetOrInitializeState(session);
            var packing = new PackingOptions
            {
                Instruction = this._options.Instruction,
                QuestionTemplate = string.Empty, // the question is the conversation's, already in it
                AnswerPrefix = string.Empty,
                FirstNumber = state.Citations.Count + 1,
            };
            packed = this._packer.Pack(query, passages, packing);
            state.Citations.AddRange(packed.Passages.Select(p => new Citation(
                p.Number, p.Passage.PassageIds, p.Passage.DocumentId, p.Passage.Source, p.Passage.Title, p.Passage.SectionPath, p.Passage.Page, p.Passage.Score, Cited: false)));
            this._state.SaveState(session, state);
        }

        return packed.Passages.Count == 0
            ? new ContextSearchResult(null, $"the passages found do not fit the context budget of {this._options.TokenBudget} tokens.")
            : new ContextSearchResult(packed.Text.Trim());
    }
}
