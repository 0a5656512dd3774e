using System.Collections;
using System.Globalization;
using T5Gemma2.Rag.Indexer.Stores.Fields;

namespace T5Gemma2.Rag.Indexer.VectorData;

/// <summary>
/// The CLR types a record's data property may have, the <see cref="FieldKind"/> each is stored as, and the conversions
/// both ways (a record's value to what <see cref="PassageFields"/> stores, and back to the property's type).
/// </summary>
internal static class RecordFieldTypes
{
    public const string Supported = "string, Guid, bool, int, long, short, byte, uint, float, double, DateTime, DateTimeOffset (or their nullable forms), and arrays or lists of string, int, long, float or double";

    /// <summary>The kind a property of this type is stored as; null when the type is not supported.</summary>
    public static FieldKind? KindOf(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (ScalarKind(type) is { } scalar)
        {
            return scalar;
        }

        // Lists of exactly the element types ToStored writes (no Guid, short or uint lists).
        return ElementType(type) switch
        {
            { } e when e == typeof(string) => FieldKind.StringList,
            { } e when e == typeof(int) || e == typeof(long) => FieldKind.IntegerList,
            { } e when e == typeof(float) || e == typeof(double) => FieldKind.NumberList,
            _ => null,
        };
    }

    /// <summary>A record's value as stored: string, long, double, bool, a timestamp's text, or a list of strings, longs or doubles.</summary>
    public static object? ToStored(object? value) => value switch
    {
        null => null,
        string text => text,
        Guid guid => guid.ToString("D"),
        bool flag => flag,
        DateTimeOffset time => PassageFields.FormatTimestamp(time),
        DateTime time => PassageFields.FormatTimestamp(AsUtc(time)),
        float or double => Convert.ToDouble(value, CultureInfo.InvariantCulture),
        byte or short or int or uint or long => Convert.ToInt64(value, CultureInfo.InvariantCulture),
        IEnumerable<string> texts => texts.ToArray(),
        IEnumerable<float> numbers => numbers.Select(n => (double)n).ToArray(),
        IEnumerable<double> numbers => numbers.ToArray(),
        IEnumerable<int> wholes => wholes.Select(n => (long)n).ToArray(),
        IEnumerable<long> wholes => wholes.ToArray(),
        _ => throw new NotSupportedException($"a {value.GetType().Name} value cannot be stored; supported: {Supported}."),
    };

    /// <summary>A filter constant as the stores compare it: a point in time stays one (the stores format it), numbers widen.</summary>
    public static object? ToConditionValue(object? value) => value switch
    {
        DateTimeOffset time => time.ToUniversalTime(),
        DateTime time => new DateTimeOffset(AsUtc(time)),
        _ => ToStored(value),
    };

    /// <summary>A stored value as the property's type (a timestamp in UTC).</summary>
    public static object? FromStored(object? stored, Type type)
    {
        if (stored is null)
        {
            return null;
        }

        Type target = Nullable.GetUnderlyingType(type) ?? type;
        if (ElementType(target) is { } element)
        {
            var items = ((IEnumerable)stored).Cast<object?>().Select(item => FromStored(item, element)).ToList();
            var array = Array.CreateInstance(element, items.Count);
            for (int i = 0; i < items.Count; i++)
            {
                array.SetValue(items[i], i);
            }

            // A List<T> serves List<T> and every list interface the type may be.
            return target.IsArray ? array : Activator.CreateInstance(typeof(List<>).MakeGenericType(element), array);
        }

        return target switch
        {
            _ when target == typeof(string) => (string)stored,
            _ when target == typeof(Guid) => Guid.Parse((string)stored, CultureInfo.InvariantCulture),
            _ when target == typeof(DateTimeOffset) => ParseTimestamp(stored),
            _ when target == typeof(DateTime) => ParseTimestamp(stored).UtcDateTime,
            _ => Convert.ChangeType(stored, target, CultureInfo.InvariantCulture),
        };
    }

    private static FieldKind? ScalarKind(Type type) => type switch
    {
        _ when type == typeof(string) || type == typeof(Guid) => FieldKind.String,
        _ when type == typeof(bool) => FieldKind.Boolean,
        _ when type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(byte) || type == typeof(uint) => FieldKind.Integer,
        _ when type == typeof(float) || type == typeof(double) => FieldKind.Number,
        _ when type == typeof(DateTime) || type == typeof(DateTimeOffset) => FieldKind.Timestamp,
        _ => null,
    };

    /// <summary>The element type of an array, List&lt;T&gt; or the list interfaces a List&lt;T&gt; implements; null otherwise.</summary>
    private static Type? ElementType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        if (!type.IsGenericType || type.GetGenericArguments() is not [var element])
        {
            return null;
        }

        var definition = type.GetGenericTypeDefinition();
        return definition == typeof(List<>) || definition == typeof(IList<>) || definition == typeof(IReadOnlyList<>)
            || definition == typeof(ICollection<>) || definition == typeof(IReadOnlyCollection<>) || definition == typeof(IEnumerable<>)
            ? element
            : null;
    }

    private static DateTime AsUtc(DateTime time) => time.Kind switch
    {
        DateTimeKind.Local => time.ToUniversalTime(),
        DateTimeKind.Unspecified => DateTime.SpecifyKind(time, DateTimeKind.Utc), // as MEVD's other connectors read an unspecified time
        _ => time,
    };

    private static DateTimeOffset ParseTimestamp(object stored) =>
        stored is string text && PassageFields.TryParseTimestamp(text, out var time)
            ? time
            : throw new FormatException($"the stored value '{stored}' is not a timestamp.");
}
