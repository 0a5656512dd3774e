using System.Globalization;
using System.Text.Json;

namespace T5Gemma2.Rag.Indexer.Stores.Fields;

/// <summary>
/// The values a passage's typed fields may hold, and how both stores write and read them: string, long, double, bool,
/// a list of strings, longs or doubles, or null; a point in time is written as <see cref="FormatTimestamp"/>'s text.
/// Read back, a whole JSON number is a long and a list is a list of those values, whatever the writer's CLR type: the
/// reader (the VectorData connector) turns them into its record's types.
/// </summary>
public static class PassageFields
{
    private const string TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    /// <summary>
    /// Throws <see cref="ArgumentException"/> unless the name is an ASCII letter or '_' followed by letters, digits or '_'
    /// (at most 64): a name both Qdrant's payload paths and SQLite's JSON paths take as it is.
    /// </summary>
    public static void ThrowIfInvalidName(string name, string what)
    {
        ArgumentNullException.ThrowIfNull(name);
        bool valid = name.Length is > 0 and <= 64 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
        if (!valid)
        {
            throw new ArgumentException($"{what} '{name}' cannot be stored: a field name is an ASCII letter or '_' followed by up to 63 letters, digits or '_'.", nameof(name));
        }
    }

    /// <summary>UTC, seven fraction digits, fixed width: text that compares and sorts in time order, and parses back exactly.</summary>
    public static string FormatTimestamp(DateTimeOffset value) => value.UtcDateTime.ToString(TimestampFormat, CultureInfo.InvariantCulture);

    /// <summary>Reads <see cref="FormatTimestamp"/>'s text (or any round-trip date) back; false when it is not one.</summary>
    public static bool TryParseTimestamp(string text, out DateTimeOffset value) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);

    /// <summary>A condition's value as the stores compare it: a point in time as its stored text, anything else as it is.</summary>
    public static object? ToStored(object? value) => value is DateTimeOffset time ? FormatTimestamp(time) : value;

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the first field whose value is not one the stores hold (a list read
    /// back, of longs, doubles or strings as objects, is one).
    /// </summary>
    public static void ThrowIfInvalid(IReadOnlyDictionary<string, object?> fields, string passageId)
    {
        ArgumentNullException.ThrowIfNull(fields);
        foreach (var (name, value) in fields)
        {
            ThrowIfInvalidName(name, $"field of passage {passageId}");
            bool list = value is System.Collections.IEnumerable items and not string && items.Cast<object?>().All(i => i is string or long or double);
            if (!list && value is not (null or string or long or double or bool))
            {
                throw new ArgumentException($"field '{name}' of passage {passageId} holds a {value.GetType().Name}; expected a string, long, double, bool, a list of strings, longs or doubles, or null.", nameof(fields));
            }
        }
    }

    /// <summary>The fields as the JSON object the embedded store keeps (and SQLite's JSON functions filter on).</summary>
    public static string ToJson(IReadOnlyDictionary<string, object?> fields) =>
        fields.Count == 0 ? "{}" : JsonSerializer.Serialize(fields.Where(f => f.Value is not null).ToDictionary(f => f.Key, f => f.Value));

    /// <summary>The fields of <see cref="ToJson"/>'s text.</summary>
    public static IReadOnlyDictionary<string, object?> FromJson(string json)
    {
        using var document = JsonDocument.Parse(json);
        var fields = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            fields[property.Name] = FromJson(property.Value);
        }

        return fields;
    }

    private static object? FromJson(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => element.TryGetInt64(out long whole) ? whole : element.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Array => element.EnumerateArray().Select(FromJson).ToList(),
        _ => null,
    };
}
