using System.Text;

namespace T5Gemma2.Rag.Indexer.Stores.Qdrant;

/// <summary>
/// The Snowball English stemmer ("Porter2"), written from the published algorithm
/// (snowballstem.org/algorithms/english/stemmer.html) as rust-stemmers 1.2 implements it, which fastembed's BM25
/// (through py_rust_stemmers) and Qdrant's server-side BM25 stem with. The 2023 undoubling change and Snowball 3.0's
/// extra R1 prefixes (past, univers, later, emerg, organ) are deliberately not applied, so stems, and therefore token
/// ids, match what those tools produce.
/// </summary>
/// <remarks>Works on lower-case words (as BM25 hands them over). Positions count UTF-16 units, so a word holding
/// characters beyond the BMP may stem differently from the Rust code, which counts code points.</remarks>
public static class Porter2Stemmer
{
    private static readonly string[] s_step2 =
    [
        "ization", "ational", "fulness", "ousness", "iveness", "tional", "biliti", "lessli",
        "entli", "ation", "alism", "aliti", "ousli", "iviti", "fulli", "enci", "anci", "abli", "izer", "ator", "alli",
        "bli", "ogi", "li",
    ];

    private static readonly string[] s_step3 = ["ational", "tional", "alize", "icate", "iciti", "ative", "ical", "ness", "ful"];

    private static readonly string[] s_step4 =
        ["ement", "ance", "ence", "able", "ible", "ment", "ant", "ent", "ism", "ate", "iti", "ous", "ive", "ize", "ion", "al", "er", "ic"];

    /// <summary>The stem of <paramref name="word"/>; words of fewer than three letters come back unchanged.</summary>
    public static string Stem(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        if (Exception1(word) is { } special)
        {
            return special;
        }

        if (word.Length < 3)
        {
            return word;
        }

        var w = new StringBuilder(word);
        bool yFound = Prelude(w);
        var (p1, p2) = MarkRegions(w);
        Step1A(w);
        if (!IsException2(w))
        {
            Step1B(w, p1);
            Step1C(w);
            Step2(w, p1);
            Step3(w, p1, p2);
            Step4(w, p2);
            Step5(w, p1, p2);
        }

        if (yFound)
        {
            w.Replace('Y', 'y');
        }

        return w.ToString();
    }

    private static string? Exception1(string word) => word switch
    {
        "skis" => "ski",
        "skies" => "sky",
        "dying" => "die",
        "lying" => "lie",
        "tying" => "tie",
        "idly" => "idl",
        "gently" => "gentl",
        "ugly" => "ugli",
        "early" => "earli",
        "only" => "onli",
        "singly" => "singl",
        "sky" or "news" or "howe" or "atlas" or "cosmos" or "bias" or "andes" => word,
        _ => null,
    };

    private static bool IsException2(StringBuilder w) =>
        w.Length is 6 or 7 && w.ToString() is "inning" or "outing" or "canning" or "herring" or "earring" or "proceed" or "exceed" or "succeed";

    /// <summary>Drops a leading apostrophe and marks y as consonant (Y) at the start and after a vowel; true when any was marked.</summary>
    private static bool Prelude(StringBuilder w)
    {
        if (w.Length > 0 && w[0] == '\'')
        {
            w.Remove(0, 1);
        }

        bool found = false;
        for (int i = 0; i < w.Length; i++)
        {
            if (w[i] == 'y' && (i == 0 || IsVowel(w[i - 1])))
            {
                w[i] = 'Y';
                found = true;
            }
        }

        return found;
    }

    /// <summary>R1 and R2 start positions (the word's length when empty).</summary>
    private static (int P1, int P2) MarkRegions(StringBuilder w)
    {
        int length = w.Length;
        string text = w.ToString();
        int p1 = text.StartsWith("gener", StringComparison.Ordinal) || text.StartsWith("arsen", StringComparison.Ordinal) ? 5
            : text.StartsWith("commun", StringComparison.Ordinal) ? 6
            : AfterVowelThenConsonant(w, 0);
        int p2 = p1 >= length ? length : AfterVowelThenConsonant(w, p1);
        return (p1, p2);
    }

    /// <summary>The position just after the first non-vowel that follows a vowel, from <paramref name="start"/>; the length when none.</summary>
    private static int AfterVowelThenConsonant(StringBuilder w, int start)
    {
        int i = start;
        while (i < w.Length && !IsVowel(w[i]))
        {
            i++;
        }

        while (i < w.Length && IsVowel(w[i]))
        {
            i++;
        }

        return i < w.Length ? i + 1 : w.Length;
    }

    private static void Step1A(StringBuilder w)
    {
        if (EndsWith(w, "'s'"))
        {
            w.Length -= 3;
        }
        else if (EndsWith(w, "'s"))
        {
            w.Length -= 2;
        }
        else if (EndsWith(w, "'"))
        {
            w.Length -= 1;
        }

        if (EndsWith(w, "sses"))
        {
            w.Length -= 2;
        }
        else if (EndsWith(w, "ied") || EndsWith(w, "ies"))
        {
            // "i" when more than one letter precedes (cries → cri), else "ie" (ties → tie).
            int start = w.Length - 3;
            w.Length = start;
            w.Append(start >= 2 ? "i" : "ie");
        }
        else if (EndsWith(w, "us") || EndsWith(w, "ss"))
        {
            // kept
        }
        else if (EndsWith(w, "s"))
        {
            // Deleted when a vowel comes before the letter preceding the s (gaps → gap, gas and this stay).
            int start = w.Length - 1;
            if (start >= 1 && HasVowel(w, 0, start - 1))
            {
                w.Length = start;
            }
        }
    }

    private static void Step1B(StringBuilder w, int p1)
    {
        if (EndsWith(w, "eedly") || EndsWith(w, "eed"))
        {
            int start = w.Length - (EndsWith(w, "eedly") ? 5 : 3);
            if (start >= p1)
            {
                w.Length = start;
                w.Append("ee");
            }

            return;
        }

        int suffix = EndsWith(w, "ingly") ? 5 : EndsWith(w, "edly") ? 4 : EndsWith(w, "ing") ? 3 : EndsWith(w, "ed") ? 2 : 0;
        if (suffix == 0 || !HasVowel(w, 0, w.Length - suffix))
        {
            return;
        }

        w.Length -= suffix;
        if (EndsWith(w, "at") || EndsWith(w, "bl") || EndsWith(w, "iz"))
        {
            w.Append('e');
        }
        else if (EndsWithDouble(w))
        {
            w.Length -= 1;
        }
        else if (w.Length == p1 && EndsWithShortSyllable(w, w.Length))
        {
            w.Append('e');
        }
    }

    /// <summary>A final y or Y after a non-vowel that is not the first letter becomes i (cry → cri; by, say stay).</summary>
    private static void Step1C(StringBuilder w)
    {
        int last = w.Length - 1;
        if (last >= 2 && w[last] is 'y' or 'Y' && !IsVowel(w[last - 1]))
        {
            w[last] = 'i';
        }
    }

    private static void Step2(StringBuilder w, int p1)
    {
        if (Longest(w, s_step2) is not { } suffix || w.Length - suffix.Length < p1)
        {
            return;
        }

        int start = w.Length - suffix.Length;
        string? replacement = suffix switch
        {
            "tional" => "tion",
            "enci" => "ence",
            "anci" => "ance",
            "abli" => "able",
            "entli" => "ent",
            "izer" or "ization" => "ize",
            "ational" or "ation" or "ator" => "ate",
            "alism" or "aliti" or "alli" => "al",
            "fulness" => "ful",
            "ousli" or "ousness" => "ous",
            "iveness" or "iviti" => "ive",
            "biliti" or "bli" => "ble",
            "ogi" => start > 0 && w[start - 1] == 'l' ? "og" : null,
            "fulli" => "ful",
            "lessli" => "less",
            "li" => start > 0 && "cdeghkmnrt".Contains(w[start - 1], StringComparison.Ordinal) ? string.Empty : null,
            _ => null,
        };
        Replace(w, start, replacement);
    }

    private static void Step3(StringBuilder w, int p1, int p2)
    {
        if (Longest(w, s_step3) is not { } suffix || w.Length - suffix.Length < p1)
        {
            return;
        }

        int start = w.Length - suffix.Length;
        string? replacement = suffix switch
        {
            "tional" => "tion",
            "ational" => "ate",
            "alize" => "al",
            "icate" or "iciti" or "ical" => "ic",
            "ful" or "ness" => string.Empty,
            "ative" => start >= p2 ? string.Empty : null,
            _ => null,
        };
        Replace(w, start, replacement);
    }

    private static void Step4(StringBuilder w, int p2)
    {
        if (Longest(w, s_step4) is not { } suffix || w.Length - suffix.Length < p2)
        {
            return;
        }

        int start = w.Length - suffix.Length;
        if (suffix != "ion" || (start > 0 && w[start - 1] is 's' or 't'))
        {
            w.Length = start;
        }
    }

    private static void Step5(StringBuilder w, int p1, int p2)
    {
        int start = w.Length - 1;
        if (start < 0)
        {
            return;
        }

        if (w[start] == 'e' && (start >= p2 || (start >= p1 && !EndsWithShortSyllable(w, start))))
        {
            w.Length = start;
        }
        else if (w[start] == 'l' && start >= p2 && start > 0 && w[start - 1] == 'l')
        {
            w.Length = start;
        }
    }

    /// <summary>
    /// Whether the letters before <paramref name="end"/> end in a short syllable: non-vowel, vowel, then a non-vowel
    /// other than w, x or Y; or, at the word's start, a vowel then a non-vowel.
    /// </summary>
    private static bool EndsWithShortSyllable(StringBuilder w, int end)
    {
        if (end >= 3 && !IsVowel(w[end - 1]) && w[end - 1] is not ('w' or 'x' or 'Y') && IsVowel(w[end - 2]) && !IsVowel(w[end - 3]))
        {
            return true;
        }

        return end == 2 && IsVowel(w[0]) && !IsVowel(w[1]);
    }

    private static bool EndsWithDouble(StringBuilder w) =>
        w.Length >= 2 && w[^1] == w[^2] && w[^1] is 'b' or 'd' or 'f' or 'g' or 'm' or 'n' or 'p' or 'r' or 't';

    private static string? Longest(StringBuilder w, string[] suffixes)
    {
        // The lists are ordered longest first, so the first match is the longest.
        foreach (string suffix in suffixes)
        {
            if (EndsWith(w, suffix))
            {
                return suffix;
            }
        }

        return null;
    }

    private static void Replace(StringBuilder w, int start, string? replacement)
    {
        if (replacement is not null)
        {
            w.Length = start;
            w.Append(replacement);
        }
    }

    private static bool EndsWith(StringBuilder w, string suffix)
    {
        if (w.Length < suffix.Length)
        {
            return false;
        }

        int offset = w.Length - suffix.Length;
        for (int i = 0; i < suffix.Length; i++)
        {
            if (w[offset + i] != suffix[i])
            {
                return false;
            }
        }

        return true;
    }

    private static bool HasVowel(StringBuilder w, int start, int end)
    {
        for (int i = start; i < end; i++)
        {
            if (IsVowel(w[i]))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsVowel(char c) => c is 'a' or 'e' or 'i' or 'o' or 'u' or 'y';
}
