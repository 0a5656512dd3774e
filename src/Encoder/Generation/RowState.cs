using System.Text;
using T5Gemma2.Rag.Encoder.Tokenization;

namespace T5Gemma2.Rag.Encoder.Generation;

/// <summary>
/// One answer being generated: its ids, its text as deltas, and stop sequences. Text that could still be the start of
/// a stop sequence is held back until it cannot, so a streamed stop sequence never reaches the caller.
/// </summary>
internal sealed class RowState
{
    private readonly IncrementalDetokenizer _detokenizer;
    private readonly IReadOnlyList<string> _stops;
    private readonly int _holdBack;
    private readonly StringBuilder _text = new();
    private int _emitted;

    public RowState(GemmaTokenizer tokenizer, GenerationOptions options)
    {
        this._detokenizer = new IncrementalDetokenizer(tokenizer);
        this._stops = [.. options.StopSequences.Where(s => s.Length > 0)];
        this._holdBack = this._stops.Count == 0 ? 0 : this._stops.Max(s => s.Length) - 1;
    }

    public List<int> Ids { get; } = [];

    public bool Done { get; private set; }

    public FinishReason Reason { get; private set; } = FinishReason.Length;

    public string Text => this._text.ToString();

    /// <summary>Adds a generated token; returns the text that may be shown now.</summary>
    public string Add(int id, int endOfSequence)
    {
        if (id == endOfSequence)
        {
            return this.Finish(FinishReason.EndOfSequence);
        }

        this.Ids.Add(id);
        this._text.Append(this._detokenizer.Push(id));
        if (this.CutAtStopSequence())
        {
            return this.Release(this._text.Length);
        }

        return this.Release(Math.Max(this._emitted, this._text.Length - this._holdBack));
    }

    /// <summary>Ends the answer: pending bytes are decoded, stop sequences checked once more, the rest released.</summary>
    public string Finish(FinishReason reason)
    {
        this._text.Append(this._detokenizer.Flush());
        if (!this.CutAtStopSequence())
        {
            this.Reason = reason;
            this.Done = true;
        }

        return this.Release(this._text.Length);
    }

    private bool CutAtStopSequence()
    {
        if (this._stops.Count == 0)
        {
            return false;
        }

        string text = this._text.ToString();
        int cut = this._stops.Select(s => text.IndexOf(s, StringComparison.Ordinal)).Where(i => i >= 0).DefaultIfEmpty(-1).Min();
        if (cut < 0)
        {
            return false;
        }

        this._text.Length = Math.Max(cut, this._emitted);
        this.Reason = FinishReason.StopSequence;
        this.Done = true;
        return true;
    }

    private string Release(int upTo)
    {
        string delta = this._text.ToString(this._emitted, upTo - this._emitted);
        this._emitted = upTo;
        return delta;
    }
}
