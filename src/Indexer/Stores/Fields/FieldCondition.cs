namespace T5Gemma2.Rag.Indexer.Stores.Fields;

/// <summary>
/// A condition on a passage's typed fields (<see cref="Documents.Passage.Fields"/>) that both stores run themselves:
/// the embedded store as SQL over its fields column, Qdrant as a payload filter. What a record filter written as a LINQ
/// expression becomes (the VectorData connector), so no filter is ever finished by scanning on the client.
/// </summary>
/// <remarks>
/// Values are what <see cref="PassageFields"/> stores: string, long, double, bool or <see cref="DateTimeOffset"/>.
/// A condition on a field a passage lacks (or holds null in) is false, and <see cref="Not"/> of it true, as C# reads
/// <c>!(r.Rating &gt; 3)</c> for a null <c>Rating</c>.
/// </remarks>
public abstract record FieldCondition
{
    private FieldCondition()
    {
    }

    /// <summary>The passage's document id is one of these (a record's key, or any of several keys).</summary>
    public sealed record DocumentIn(IReadOnlyList<string> DocumentIds) : FieldCondition;

    /// <summary>A scalar field equals the value; a null value: the field is absent or null.</summary>
    public sealed record Equal(string Field, object? Value) : FieldCondition;

    /// <summary>A scalar field equals one of the values.</summary>
    public sealed record In(string Field, IReadOnlyList<object> Values) : FieldCondition;

    /// <summary>A list field holds the value among its elements.</summary>
    public sealed record ListContains(string Field, object Value) : FieldCondition;

    /// <summary>A numeric or timestamp field compares with the value as <see cref="Comparison"/> says (field on the left).</summary>
    public sealed record Compare(string Field, FieldComparison Comparison, object Value) : FieldCondition;

    /// <summary>Both conditions hold.</summary>
    public sealed record And(FieldCondition Left, FieldCondition Right) : FieldCondition;

    /// <summary>Either condition holds.</summary>
    public sealed record Or(FieldCondition Left, FieldCondition Right) : FieldCondition;

    /// <summary>The condition does not hold.</summary>
    public sealed record Not(FieldCondition Operand) : FieldCondition;
}
