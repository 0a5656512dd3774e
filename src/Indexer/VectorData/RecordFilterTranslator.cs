using System.Collections;
using System.Linq.Expressions;
using Microsoft.Extensions.VectorData.ProviderServices;
using Microsoft.Extensions.VectorData.ProviderServices.Filter;
using T5Gemma2.Rag.Indexer.Stores.Fields;

namespace T5Gemma2.Rag.Indexer.VectorData;

/// <summary>
/// Translates a record filter written as a LINQ expression into a <see cref="FieldCondition"/> that the store runs:
/// <c>==</c> and <c>!=</c> (null included), <c>&amp;&amp;</c>, <c>||</c>, <c>!</c>, <c>&lt;</c> <c>&lt;=</c> <c>&gt;</c>
/// <c>&gt;=</c> on numbers and dates, a bool property alone, <c>HasValue</c>, <c>list.Contains(value)</c> on a list
/// property, and <c>constants.Contains(r.Property)</c> (the key included). Anything else is a
/// <see cref="NotSupportedException"/> that names the construct: nothing is ever filtered on the client.
/// </summary>
internal sealed class RecordFilterTranslator : FilterTranslatorBase
{
    private static readonly FilterPreprocessingOptions s_preprocessing = new() { SupportsParameterization = false };

    private readonly RecordSchema _schema;

    private RecordFilterTranslator(RecordSchema schema) => this._schema = schema;

    /// <summary>The condition, or null when the filter is the constant true.</summary>
    public static FieldCondition? Translate(LambdaExpression filter, CollectionModel model, RecordSchema schema)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var translator = new RecordFilterTranslator(schema);
        var body = translator.PreprocessFilter(filter, model, s_preprocessing);
        return body is ConstantExpression { Value: true } ? null : translator.Condition(body);
    }

    private FieldCondition Condition(Expression node) => node switch
    {
        BinaryExpression { NodeType: ExpressionType.AndAlso } and => new FieldCondition.And(this.Condition(and.Left), this.Condition(and.Right)),
        BinaryExpression { NodeType: ExpressionType.OrElse } or => new FieldCondition.Or(this.Condition(or.Left), this.Condition(or.Right)),
        BinaryExpression { NodeType: ExpressionType.Equal } equal => this.Equality(equal),
        BinaryExpression { NodeType: ExpressionType.NotEqual } notEqual => new FieldCondition.Not(this.Equality(notEqual)),
        BinaryExpression { NodeType: ExpressionType.LessThan or ExpressionType.LessThanOrEqual or ExpressionType.GreaterThan or ExpressionType.GreaterThanOrEqual } comparison => this.Comparison(comparison),
        UnaryExpression { NodeType: ExpressionType.Not } not => new FieldCondition.Not(this.Condition(not.Operand)),
        _ when node.Type == typeof(bool) && this.TryBindField(node, out var flag) => new FieldCondition.Equal(flag.StorageName, true),
        MethodCallExpression call => this.Method(call),
        MemberExpression { Member.Name: "HasValue" } hasValue when this.TryBindField(hasValue.Expression!, out var nullable) =>
            new FieldCondition.Not(new FieldCondition.Equal(nullable.StorageName, null)),
        ConstantExpression { Value: bool } => throw Unsupported(node, "a constant condition inside a filter"),
        _ => throw Unsupported(node, $"{node.NodeType} expressions"),
    };

    private FieldCondition Equality(BinaryExpression equal)
    {
        var (property, value) = this.PropertyAndConstant(equal);
        if (property is KeyPropertyModel)
        {
            return value is null ? throw Unsupported(equal, "comparing the key with null") : new FieldCondition.DocumentIn([RecordMapper.KeyText(value)]);
        }

        if (this.KindOf(property) is FieldKind.StringList or FieldKind.IntegerList or FieldKind.NumberList)
        {
            throw Unsupported(equal, $"comparing list property '{property.ModelName}' as a whole (use {property.ModelName}.Contains(value))");
        }

        return new FieldCondition.Equal(property.StorageName, this.ValueFor(property, value));
    }

    private FieldCondition Comparison(BinaryExpression comparison)
    {
        var (property, value) = this.PropertyAndConstant(comparison);
        bool flipped = !this.TryBindField(comparison.Left, out _);
        if (property is KeyPropertyModel || this.KindOf(property) is not (FieldKind.Integer or FieldKind.Number or FieldKind.Timestamp))
        {
            throw Unsupported(comparison, $"ordering comparisons on '{property.ModelName}' (the stores compare numbers and dates only)");
        }

        if (value is null)
        {
            throw Unsupported(comparison, "comparing with null");
        }

        var op = (comparison.NodeType, flipped) switch
        {
            (ExpressionType.LessThan, false) or (ExpressionType.GreaterThan, true) => FieldComparison.LessThan,
            (ExpressionType.LessThanOrEqual, false) or (ExpressionType.GreaterThanOrEqual, true) => FieldComparison.LessThanOrEqual,
            (ExpressionType.GreaterThan, false) or (ExpressionType.LessThan, true) => FieldComparison.GreaterThan,
            _ => FieldComparison.GreaterThanOrEqual,
        };
        return new FieldCondition.Compare(property.StorageName, op, this.ValueFor(property, value)!);
    }

    private FieldCondition Method(MethodCallExpression call)
    {
        if (!TryMatchContains(call, out var source, out var item))
        {
            throw Unsupported(call, $"the method {call.Method.DeclaringType?.Name}.{call.Method.Name}");
        }

        // list.Contains(value): a list property holding a value.
        if (this.TryBindField(source, out var list))
        {
            if (this.KindOf(list) is not (FieldKind.StringList or FieldKind.IntegerList or FieldKind.NumberList))
            {
                throw Unsupported(call, $"Contains on '{list.ModelName}', which is not a list property");
            }

            return Constant(item, call) is { } value
                ? new FieldCondition.ListContains(list.StorageName, this.ValueFor(list, value)!)
                : throw Unsupported(call, "looking for null in a list");
        }

        // constants.Contains(r.Property): the property is one of the values.
        if (this.TryBindField(item, out var property) && Constant(source, call) is IEnumerable values)
        {
            var items = values.Cast<object?>().ToList();
            if (items.Count == 0)
            {
                throw Unsupported(call, "Contains over an empty collection (it matches nothing)");
            }

            if (items.Any(i => i is null))
            {
                throw Unsupported(call, "null among the values of Contains");
            }

            return property is KeyPropertyModel
                ? new FieldCondition.DocumentIn([.. items.Select(k => RecordMapper.KeyText(k!))])
                : new FieldCondition.In(property.StorageName, [.. items.Select(i => this.ValueFor(property, i)!)]);
        }

        throw Unsupported(call, "Contains other than list-property.Contains(value) or values.Contains(property)");
    }

    /// <summary>The property on one side and the constant on the other, whichever the order.</summary>
    private (PropertyModel Property, object? Value) PropertyAndConstant(BinaryExpression node)
    {
        if (this.TryBindField(node.Left, out var left))
        {
            return (left, Constant(node.Right, node));
        }

        if (this.TryBindField(node.Right, out var right))
        {
            return (right, Constant(node.Left, node));
        }

        var other = node.Left is ConstantExpression ? node.Right : node.Left;
        throw Unsupported(node, $"'{other}' ({other.NodeType}), which is not a record property,");
    }

    /// <summary>
    /// Binds a key or data property, looking through <c>.Value</c> and the conversions that keep every value (nullable
    /// lifts, widening to long or double, unboxing a dynamic record's object): a narrowing cast such as <c>(int)r.Price</c>
    /// would compare other values than the store holds, so it is refused.
    /// </summary>
    private bool TryBindField(Expression expression, out PropertyModel property)
    {
        while (true)
        {
            switch (expression)
            {
                case UnaryExpression { NodeType: ExpressionType.Convert or ExpressionType.ConvertChecked } convert:
                    if (!KeepsEveryValue(convert.Operand.Type, convert.Type))
                    {
                        throw Unsupported(convert, $"converting {TypeName(convert.Operand.Type)} to {TypeName(convert.Type)}, which changes the values compared,");
                    }

                    expression = convert.Operand;
                    continue;
                case MemberExpression { Member.Name: "Value", Expression: { } inner } when Nullable.GetUnderlyingType(inner.Type) is not null:
                    expression = inner;
                    continue;
            }

            break;
        }

        if (this.TryBindProperty(expression, out var bound) && bound is KeyPropertyModel or DataPropertyModel)
        {
            property = bound!;
            return true;
        }

        if (bound is VectorPropertyModel vector)
        {
            throw new NotSupportedException($"a filter cannot test vector property '{vector.ModelName}'.");
        }

        property = null!;
        return false;
    }

    private FieldKind? KindOf(PropertyModel property) => this._schema.Fields.FirstOrDefault(f => f.Name == property.StorageName)?.Kind;

    /// <summary>
    /// A constant as the field's kind stores it, so both stores compare like with like: a whole number against a number
    /// field becomes a double (Qdrant matches no integer against a double payload), a date a UTC instant.
    /// </summary>
    private object? ValueFor(PropertyModel property, object? value) => (this.KindOf(property), RecordFieldTypes.ToConditionValue(value)) switch
    {
        (FieldKind.Number or FieldKind.NumberList, long whole) => (double)whole,
        (_, var converted) => converted,
    };

    private static string TypeName(Type type) => Nullable.GetUnderlyingType(type) is { } underlying ? underlying.Name + "?" : type.Name;

    private static bool KeepsEveryValue(Type from, Type to)
    {
        Type source = Nullable.GetUnderlyingType(from) ?? from, target = Nullable.GetUnderlyingType(to) ?? to;
        return from == typeof(object) || source == target
            || (target == typeof(double) && (source == typeof(float) || source == typeof(int) || source == typeof(long) || source == typeof(short) || source == typeof(byte) || source == typeof(uint)))
            || (target == typeof(long) && (source == typeof(int) || source == typeof(short) || source == typeof(byte) || source == typeof(uint)))
            || (target == typeof(int) && (source == typeof(short) || source == typeof(byte)));
    }

    private static object? Constant(Expression expression, Expression whole)
    {
        while (expression is UnaryExpression { NodeType: ExpressionType.Convert or ExpressionType.ConvertChecked } convert)
        {
            expression = convert.Operand;
        }

        return expression is ConstantExpression constant
            ? constant.Value
            : throw Unsupported(whole, $"'{expression}', which is neither a record property nor a value known before the query runs");
    }

    private static NotSupportedException Unsupported(Expression node, string what) =>
        new($"the T5Gemma2 vector store cannot run the filter '{node}': {what} cannot be translated to the store's filter.");
}
