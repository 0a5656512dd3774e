using Google.Protobuf.Collections;
using Qdrant.Client.Grpc;

namespace T5Gemma2.Rag.Tests.Stores.QdrantFake;

/// <summary>
/// Qdrant's filter semantics for the conditions t5rag sends: must / must_not / should, keyword and keywords matches
/// (a field holding an array matches when any element does), integer and keyword equality, numeric ranges, has_id and
/// nested filters. Anything else is refused, so a condition the fake does not model cannot pass silently.
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
        _ => throw new NotSupportedException($"the Qdrant fake does not model {condition.ConditionOneOfCase} conditions"),
    };

    private static bool Matches(FieldCondition field, MapField<string, Value> payload)
    {
        if (!payload.TryGetValue(field.Key, out var value))
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
                _ => throw new NotSupportedException($"the Qdrant fake does not model {match.MatchValueCase} matches"),
            };
        }

        if (field.Range is { } range)
        {
            return values.Any(v => v.KindCase is Value.KindOneofCase.IntegerValue or Value.KindOneofCase.DoubleValue && InRange(Number(v), range));
        }

        throw new NotSupportedException($"the Qdrant fake models only match and range conditions (field '{field.Key}')");
    }

    private static double Number(Value value) => value.KindCase == Value.KindOneofCase.IntegerValue ? value.IntegerValue : value.DoubleValue;

    private static bool InRange(double x, global::Qdrant.Client.Grpc.Range range) =>
        (!range.HasGte || x >= range.Gte) && (!range.HasGt || x > range.Gt) && (!range.HasLte || x <= range.Lte) && (!range.HasLt || x < range.Lt);
}
