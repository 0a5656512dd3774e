using System.Text.RegularExpressions;

namespace T5Gemma2.Rag.Server.Collections;

/// <summary>What a collection name may be over HTTP: what both stores accept, and nothing a path or a filter could read another way.</summary>
public static partial class CollectionNames
{
    /// <summary>The rule, for messages.</summary>
    public const string Rule = "letters, digits, '_', '-' and '.', 1 to 64 characters, not starting or ending with '.'";

    /// <remarks>\z, not $: $ also matches before a final line feed, and "docs\n" would pass. A name ending in '.' is refused, as Windows would open "docs." as "docs".</remarks>
    public static bool IsValid(string? name) => name is not null && ValidName().IsMatch(name) && !name.Contains("..", StringComparison.Ordinal) && !name.EndsWith('.');

    [GeneratedRegex(@"\A[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}\z")]
    private static partial Regex ValidName();
}
