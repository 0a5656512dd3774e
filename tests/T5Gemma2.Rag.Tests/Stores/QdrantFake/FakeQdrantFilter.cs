using Google.Protobuf.Collections;
using Qdrant.Client.Grpc;

namespace T5Gemma2.Rag.Tests.Stores.QdrantFake;

/// <summary>
/// Qdrant's filter semantics for the conditions t5rag sends: must / must_not / should, keyword and keywords matches
/// (a field holding an array matches when any element does), integer, integers, bool and keyword equality, numeric and
/// datetime ranges, is_empty, has_id and nested filters, on top-level keys and dotted paths into objects ("fields.x").
/// Anything else is refused, so a condition the fake does not model cannot pass silently.
/// </summary>
internal static class FakeQdrantFilter
{
    public static bool Matches(Filter? filter, Guid id, MapField<string, Value> payload)
    {
        if (filter is null)
        {
            return true;
        }

        return filter.Must.All(c => Matches(c, id, payload))
            && !filter.MustNot.Any(c => Matches(c, id, payload))
            && (filter.Should.Count == 0 || filter.Should.Any(c => Matches(c, id, payload)));
    }

    /// <summary>Both filters (AND); either may be null.</summary>
    public static Filter? And(Filter? a, Filter? b) => a is null ? b : b is null ? a : new Filter { Must = { new Condition { Filter = a }, new Condition { Filter = b } } };

    private static bool Matches(Condition condition, Guid id, MapField<string, Value> payload) => condition.ConditionOneOfCase switch
    {
        Condition.ConditionOneOfOneofCase.Field => Matches(condition.Field, payload),
        Condition.ConditionOneOfOneofCase.HasId => condition.HasId.HasId.Any(p => Guid.Parse(p.Uuid) == id),
        Condition.ConditionOneOfOneofCase.Filter => Matches(condition.Filter, id, payload),
        Condition.ConditionOneOfOneofCase.IsEmpty => Lookup(payload, condition.IsEmpty.Key) is not { } v || v.KindCase == Value.KindOneofCase.NullValue
            || (v.KindCase == Value.KindOneofCase.ListValue && v.ListValue.Values.Count == 0),
        _ => throw new NotSupportedException($"the Qdrant fake does not model {condition.ConditionOneOfCase} conditions"),
    };

    /// <summary>The value at a key, a dotted key walking into nested objects as Qdrant's payload paths do; null when absent.</summary>
    public static Value? Lookup(MapField<string, Value> payload, string key)
    {
        if (payload.TryGetValue(key, out var direct))
        {
            return direct;
        }

        int dot = key.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 && payload.TryGetValue(key[..dot], out var parent) && parent.KindCase == Value.KindOneofCase.StructValue
            ? Lookup(parent.StructValue.Fields, key[(dot + 1)..])
            : null;
    }

    /// <summary>What order_by sorts a point by: a number, or a datetime's ticks.</summary>
    public static double SortKey(MapField<string, Value> payload, string key) => Lookup(payload, key) is { } value
        ? value.KindCase == Value.KindOneofCase.StringValue ? DateTimeOffset.Parse(value.StringValue, System.Globalization.CultureInfo.InvariantCulture).UtcTicks : Number(value)
        : double.NaN;

    private static bool Matches(FieldCondition field, MapField<string, Value> payload)
    {
        if (Lookup(payload, field.Key) is not { } value)
        {
            return false;
        }

        var values = value.KindCase == Value.KindOneofCase.ListValue ? [.. value.ListValue.Values] : new List<Value> { value };
        if (field.Match is { } match)
        {
            return match.MatchValueCase switch
            {
                Match.MatchValueOneofCase.Keyword => values.Any(v => v.KindCase == Value.KindOneofCase.StringValue && v.StringValue == match.Keyword),
                Match.MatchValueOneofCase.Keywords => values.Any(v => v.KindCase == Value.KindOneofCase.StringValue && match.Keywords.Strings.Contains(v.StringValue)),
                Match.MatchValueOneofCase.Integer => values.Any(v => v.KindCase == Value.KindOneofCase.IntegerValue && v.IntegerValue == match.Integer),
                Match.MatchValueOneofCase.Integers => values.Any(v => v.KindCase == Value.KindOneofCase.IntegerValue && match.Integers.Integers.Contains(v.IntegerValue)),
                Match.MatchValueOneofCase.Boolean => values.Any(v => v.KindCase == Value.KindOneofCase.BoolValue && v.BoolValue == match.Boolean),
                _ => throw new NotSupportedException($"the Qdrant fake does not model {match.MatchValueCase} matches"),
            };
        }

        if (field.Range is { } range)
        {
            return values.Any(v => v.KindCase is Value.KindOneofCase.IntegerValue or Value.KindOneofCase.DoubleValue && InRange(Number(v), range));
        }

        if (field.DatetimeRange is { } dates)
        {
            return values.Any(v => v.KindCase == Value.KindOneofCase.StringValue
                && DateTimeOffset.TryParse(v.StringValue, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var time)
                && InRange(time.UtcDateTime, dates));
        }

        throw new NotSupportedException($"the Qdrant fake models only match, range and datetime range conditions (field '{field.Key}')");
    }

    private static bool InRange(DateTime x, DatetimeRange range) =>
        (range.Gte is null || x >= range.Gte.ToDateTime()) && (range.Gt is null || x > range.Gt.ToDateTime())
        && (range.Lte is null || x <= range.Lte.ToDateTime()) && (range.Lt is null || x < range.Lt.ToDateTime());

    private static double Number(Value value) => value.KindCase == Value.KindOneofCase.IntegerValue ? value.IntegerValue : value.DoubleValue;

    private static bool InRange(double x, global::Qdrant.Client.Grpc.Range range) =>
        (!range.HasGte || x >= range.Gte) && (!range.HasGt || x > range.Gt) && (!range.HasLte || x <= range.Lte) && (!range.HasLt || x < range.Lt);
}
