using System.Text.Json;

namespace T5Gemma2.Rag.Indexer.Stores.Fields;

/// <summary>
/// The shape of the records a collection was created for through the VectorData connector, kept in the collection's
/// settings so that opening it with another record type is refused with the first difference rather than misread.
/// </summary>
/// <param name="Key">The key property's stored name.</param>
/// <param name="Text">The full-text property's stored name (the passage text that keyword search ranks), or null.</param>
/// <param name="Vector">The vector property's stored name.</param>
/// <param name="Fields">Every data property, in declaration order (the full-text one included).</param>
public sealed record RecordSchema(string Key, string? Text, string Vector, IReadOnlyList<FieldDefinition> Fields)
{
    private static readonly JsonSerializerOptions s_json = new() { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    public string ToJson() => JsonSerializer.Serialize(this, s_json);

    /// <summary>Reads <see cref="ToJson"/>'s text; a <see cref="StoreException"/> naming <paramref name="where"/> when it is not one.</summary>
    public static RecordSchema Parse(string json, string where)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            return JsonSerializer.Deserialize<RecordSchema>(json, s_json) ?? throw new JsonException("null");
        }
        catch (JsonException ex)
        {
            throw new StoreException($"{where}: the record schema in the collection's settings is not readable ({ex.Message}); expected one written by t5rag.", ex);
        }
    }

    /// <summary>
    /// What differs between this (the collection's) and <paramref name="given"/> (a record type's), as words for an error
    /// ("field 'Rating' is Number here and Integer in the record type"); null when they are the same. Whether a field is
    /// indexed is not compared: it changes how fast a filter runs, not what is stored.
    /// </summary>
    public string? FirstDifference(RecordSchema given)
    {
        ArgumentNullException.ThrowIfNull(given);
        if (this.Key != given.Key)
        {
            return $"its key is '{this.Key}', the record type's '{given.Key}'";
        }

        if (this.Vector != given.Vector)
        {
            return $"its vector is '{this.Vector}', the record type's '{given.Vector}'";
        }

        if (this.Text != given.Text)
        {
            return $"its full-text property is {Quoted(this.Text)}, the record type's {Quoted(given.Text)}";
        }

        var mine = this.Fields.ToDictionary(f => f.Name, StringComparer.Ordinal);
        foreach (var field in given.Fields)
        {
            if (!mine.TryGetValue(field.Name, out var stored))
            {
                return $"it has no field '{field.Name}' (it has {string.Join(", ", this.Fields.Select(f => $"'{f.Name}'"))})";
            }

            if (stored.Kind != field.Kind)
            {
                return $"its field '{field.Name}' holds {stored.Kind}, the record type's {field.Kind}";
            }
        }

        var theirs = given.Fields.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        return this.Fields.FirstOrDefault(f => !theirs.Contains(f.Name)) is { } missing
            ? $"its field '{missing.Name}' ({missing.Kind}) is not in the record type, whose writes would drop it"
            : null;
    }

    private static string Quoted(string? name) => name is null ? "none" : $"'{name}'";
}
