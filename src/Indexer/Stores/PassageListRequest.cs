using T5Gemma2.Rag.Indexer.Stores.Fields;

namespace T5Gemma2.Rag.Indexer.Stores;

/// <summary>A page of a collection's passages that meet a filter, in a field order: what a filtered get of records is.</summary>
public sealed class PassageListRequest
{
    public PassageListRequest(int top)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        this.Top = top;
    }

    /// <summary>Passages to return at most.</summary>
    public int Top { get; }

    /// <summary>Passages of the order to pass over first.</summary>
    public int Skip
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            field = value;
        }
    }

    public PassageFilter Filter { get; init; } = PassageFilter.None;

    /// <summary>The order's keys, first first; empty: the store's own order (stable between calls while nothing is written).</summary>
    public IReadOnlyList<FieldOrder> OrderBy { get; init; } = [];

    /// <summary>Whether each passage's vector is read too (otherwise it is empty).</summary>
    public bool IncludeVectors { get; init; }
}
