namespace T5Gemma2.Rag.Indexer.Stores.Fields;

/// <summary>How <see cref="FieldCondition.Compare"/> compares a field (on the left) with its value.</summary>
public enum FieldComparison
{
    LessThan,
    LessThanOrEqual,
    GreaterThan,
    GreaterThanOrEqual,
}
