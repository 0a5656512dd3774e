using System.Collections;
using System.Linq.Expressions;
using Microsoft.Extensions.VectorData;
using Microsoft.SemanticKernel.Data;
using T5Gemma2.Rag.Indexer.Stores;

namespace T5Gemma2.Rag.SemanticKernel;

/// <summary>
/// Turns Semantic Kernel's text search filters into a <see cref="PassageFilter"/>: the LINQ filters of
/// <see cref="TextSearchOptions{TRecord}"/> over <see cref="SearchResultItem"/>, and the legacy equality clauses of
/// <see cref="TextSearchFilter"/>. Conditions joined by AND; a null result means no passage can match.
/// </summary>
internal static class TextSearchFilters
{
    private const string Supported = "T5Gemma2TextSearch filters on DocumentId (==, or a list's Contains) and Source (StartsWith, ordinal), joined with &&";

    public static PassageFilter? FromExpression(Expression<Func<SearchResultItem, bool>>? filter)
    {
        if (filter is null)
        {
            return PassageFilter.None;
        }

        var conditions = new Conditions();
        Visit(filter.Body, filter.Parameters[0], conditions);
        return conditions.ToFilter();
    }

#pragma warning disable CS0618 // The legacy filter is what TextSearchExtensions and TextSearchProvider pass in SK 1.82.
    public static PassageFilter? FromLegacy(TextSearchFilter? filter)
    {
        if (filter is null)
        {
            return PassageFilter.None;
        }

        var conditions = new Conditions();
        foreach (var clause in filter.FilterClauses)
        {
            switch (clause)
            {
                case EqualToFilterClause { FieldName: var field, Value: string value } when field.Equals(nameof(SearchResultItem.DocumentId), StringComparison.OrdinalIgnoreCase):
                    conditions.DocumentIdIn([value]);
                    break;
                case EqualToFilterClause { FieldName: var field, Value: string value } when field.Equals(nameof(SearchResultItem.Source), StringComparison.OrdinalIgnoreCase):
                    conditions.SourceStartsWith(value);
                    break;
                case EqualToFilterClause { FieldName: var field, Value: var value } when field.StartsWith("tag.", StringComparison.OrdinalIgnoreCase) && value is not null:
                    conditions.Tag(field["tag.".Length..], Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!);
                    break;
                case EqualToFilterClause equal:
                    throw new NotSupportedException($"filter clause {equal.FieldName} == {equal.Value}: T5Gemma2TextSearch filters on DocumentId, Source (a prefix) and tag.<name>.");
                default:
                    throw new NotSupportedException($"filter clause {clause.GetType().Name}: T5Gemma2TextSearch takes equality clauses on DocumentId, Source (a prefix) and tag.<name>.");
            }
        }

        return conditions.ToFilter();
    }
#pragma warning restore CS0618

    private static void Visit(Expression expression, ParameterExpression record, Conditions conditions)
    {
        switch (expression)
        {
            case BinaryExpression { NodeType: ExpressionType.AndAlso } and:
                Visit(and.Left, record, conditions);
                Visit(and.Right, record, conditions);
                return;
            case BinaryExpression { NodeType: ExpressionType.Equal } equal when IsMember(equal.Left, record, nameof(SearchResultItem.DocumentId)) && TryValue(equal.Right, out var value) && value is string id:
                conditions.DocumentIdIn([id]);
                return;
            case BinaryExpression { NodeType: ExpressionType.Equal } equal when IsMember(equal.Right, record, nameof(SearchResultItem.DocumentId)) && TryValue(equal.Left, out var value) && value is string id:
                conditions.DocumentIdIn([id]);
                return;
            case MethodCallExpression { Method.Name: nameof(string.StartsWith), Object: { } target } call
                when call.Method.DeclaringType == typeof(string) && IsMember(target, record, nameof(SearchResultItem.Source))
                    && TryValue(call.Arguments[0], out var value) && value is string prefix
                    && (call.Arguments.Count == 1 || (TryValue(call.Arguments[1], out var comparison) && comparison is StringComparison.Ordinal)):
                conditions.SourceStartsWith(prefix);
                return;
            case MethodCallExpression { Method.Name: "Contains" } call when ContainsDocumentId(call, record) is { } ids:
                conditions.DocumentIdIn(ids);
                return;
            default:
                throw new NotSupportedException($"filter `{expression}`: {Supported}.");
        }
    }

    /// <summary>The ids of <c>ids.Contains(r.DocumentId)</c>, whether bound to Enumerable, MemoryExtensions (arrays, C# 14) or the list's own method.</summary>
    private static List<string>? ContainsDocumentId(MethodCallExpression call, ParameterExpression record)
    {
        Expression? values = call.Object is not null && call.Arguments.Count == 1 ? call.Object
            : call.Object is null && call.Arguments.Count >= 2 ? call.Arguments[0]
            : null;
        Expression item = call.Object is not null ? call.Arguments[0] : call.Arguments[^1];
        if (call.Object is null && call.Arguments.Count > 2)
        {
            // Contains(source, value, comparer): only the default comparer keeps ordinal equality.
            if (!TryValue(call.Arguments[2], out var comparer) || comparer is not null)
            {
                return null;
            }

            item = call.Arguments[1];
        }

        if (values is null || !IsMember(item, record, nameof(SearchResultItem.DocumentId)) || !TryValue(Unwrap(values), out var evaluated) || evaluated is not IEnumerable sequence)
        {
            return null;
        }

        return [.. sequence.Cast<object?>().OfType<string>()];
    }

    /// <summary>Strips the span conversion C# 14 puts around an array passed to MemoryExtensions.Contains.</summary>
    private static Expression Unwrap(Expression expression) => expression switch
    {
        MethodCallExpression { Method.Name: "op_Implicit", Arguments: [var inner] } => Unwrap(inner),
        UnaryExpression { NodeType: ExpressionType.Convert } convert => Unwrap(convert.Operand),
        _ => expression,
    };

    private static bool IsMember(Expression expression, ParameterExpression record, string name) =>
        expression is MemberExpression { Member.Name: var member, Expression: var owner } && member == name && owner == record;

    /// <summary>
    /// The value of an expression that does not read the record: a constant, a captured variable, or a computation
    /// over them (<c>prefix + "/"</c>), evaluated here as LINQ providers do before translating.
    /// </summary>
    private static bool TryValue(Expression expression, out object? value)
    {
        if (expression is ConstantExpression constant)
        {
            value = constant.Value;
            return true;
        }

        if (ReadsParameter.Check(expression))
        {
            value = null;
            return false;
        }

        value = Expression.Lambda<Func<object?>>(Expression.Convert(expression, typeof(object))).Compile(preferInterpretation: true)();
        return true;
    }

    /// <summary>Whether an expression reads a lambda parameter (the record), so cannot be evaluated alone.</summary>
    private sealed class ReadsParameter : ExpressionVisitor
    {
        private bool _found;

        public static bool Check(Expression expression)
        {
            var visitor = new ReadsParameter();
            visitor.Visit(expression);
            return visitor._found;
        }

        protected override Expression VisitParameter(ParameterExpression node)
        {
            this._found = true;
            return node;
        }
    }

    /// <summary>The conditions met so far, ANDed through <see cref="PassageFilter.Intersect"/>; a contradiction matches nothing.</summary>
    private sealed class Conditions
    {
        private PassageFilter? _filter = PassageFilter.None;

        public void DocumentIdIn(IReadOnlyCollection<string> ids) =>
            this._filter = ids.Count == 0 ? null : this._filter?.Intersect(new PassageFilter { DocumentIds = ids });

        public void SourceStartsWith(string prefix) => this._filter = this._filter?.Intersect(new PassageFilter { SourcePrefix = prefix });

        public void Tag(string key, string value) =>
            this._filter = this._filter?.Intersect(new PassageFilter { Tags = new Dictionary<string, string>(StringComparer.Ordinal) { [key] = value } });

        public PassageFilter? ToFilter() => this._filter;
    }
}
