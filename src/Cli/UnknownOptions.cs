using System.CommandLine;
using System.CommandLine.Parsing;

namespace T5Gemma2.Rag.Cli;

/// <summary>
/// One rule for every command: a token that looks like an option (<c>-x</c>, <c>--name</c>) and matches none of the
/// command's options is a usage error, not a text or a path. System.CommandLine hands such tokens to the command's
/// arguments (<c>embed --bogus-flag</c> embedded "--bogus-flag"); after <c>--</c> they are arguments as written.
/// </summary>
internal static class UnknownOptions
{
    /// <summary>One line per unknown option on the command line: its name and, when one is close, the nearest real option.</summary>
    public static IReadOnlyList<string> Describe(ParseResult parse)
    {
        // Tokens are compared by reference: Token's equality is by value, and the same text may be an option's value
        // in one place and a stray option in another.
        var optionValues = new HashSet<Token>(ReferenceEqualityComparer.Instance);
        CollectOptionValues(parse.RootCommandResult, optionValues);
        var known = KnownOptionNames(parse.CommandResult.Command);
        var errors = new List<string>();
        foreach (var token in parse.Tokens)
        {
            if (token.Type == TokenType.DoubleDash)
            {
                break;
            }

            if (token.Type == TokenType.Argument && LooksLikeOption(token.Value) && !optionValues.Contains(token))
            {
                errors.Add(Describe(token.Value, known, parse.CommandResult.Command));
            }
        }

        return errors;
    }

    /// <summary><c>-x…</c> or <c>--x…</c> with a letter after the dashes; "-", "-5" and "- item" stay texts.</summary>
    private static bool LooksLikeOption(string value)
    {
        string name = value.StartsWith("--", StringComparison.Ordinal) ? value[2..] : value.StartsWith('-') ? value[1..] : "";
        return name.Length > 0 && char.IsAsciiLetter(name[0]);
    }

    private static string Describe(string token, IReadOnlyList<string> known, Command command)
    {
        // An option given a value with '=' is named without it.
        string name = token.Split('=', 2)[0];
        string? nearest = Nearest(name, known);
        string path = CommandPath(command);
        return nearest is null
            ? $"unknown option {name} for '{path}' (see '{path} --help'; put '--' before a text that begins with '-')"
            : $"unknown option {name}; did you mean {nearest}? (see '{path} --help'; put '--' before a text that begins with '-')";
    }

    /// <summary>The closest option name by edit distance, if within a third of the name's length (and at least 2).</summary>
    internal static string? Nearest(string name, IEnumerable<string> known)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string candidate in known)
        {
            int distance = EditDistance(name.TrimStart('-'), candidate.TrimStart('-'));
            if (distance < bestDistance)
            {
                (best, bestDistance) = (candidate, distance);
            }
        }

        return bestDistance <= Math.Max(2, name.TrimStart('-').Length / 3) ? best : null;
    }

    /// <summary>Levenshtein distance (insertions, deletions, substitutions), case-insensitive, over two rows.</summary>
    internal static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int substitution = previous[j - 1] + (char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j], current[j - 1]) + 1);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    private static void CollectOptionValues(CommandResult command, HashSet<Token> values)
    {
        foreach (var child in command.Children)
        {
            if (child is OptionResult option)
            {
                values.UnionWith(option.Tokens);
            }
            else if (child is CommandResult subcommand)
            {
                CollectOptionValues(subcommand, values);
            }
        }
    }

    /// <summary>The command's options and aliases, and the recursive options of the commands above it (--help).</summary>
    private static List<string> KnownOptionNames(Command command)
    {
        var names = new List<string>();
        void Add(Option option)
        {
            names.Add(option.Name);
            names.AddRange(option.Aliases);
        }

        foreach (var option in command.Options)
        {
            Add(option);
        }

        for (var parent = command.Parents.OfType<Command>().FirstOrDefault(); parent is not null; parent = parent.Parents.OfType<Command>().FirstOrDefault())
        {
            foreach (var option in parent.Options.Where(o => o.Recursive))
            {
                Add(option);
            }
        }

        return names;
    }

    private static string CommandPath(Command command)
    {
        var names = new List<string>();
        for (Symbol? symbol = command; symbol is Command current; symbol = current.Parents.FirstOrDefault())
        {
            names.Add(current is RootCommand ? "t5rag" : current.Name);
        }

        names.Reverse();
        return string.Join(' ', names);
    }
}
