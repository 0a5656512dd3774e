namespace T5Gemma2.Rag.Indexer.Stores.Fields;

/// <summary>What a passage field holds, as the stores keep and index it.</summary>
public enum FieldKind
{
    String,
    Integer,
    Number,
    Boolean,

    /// <summary>A point in time, kept as <see cref="PassageFields.FormatTimestamp"/>'s fixed-width UTC text (sorts and compares as time).</summary>
    Timestamp,
    StringList,
    IntegerList,
    NumberList,
}
