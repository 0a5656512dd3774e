namespace T5Gemma2.Rag.Indexer.Loading;

/// <summary>
/// A glob over '/'-separated relative paths: <c>*</c> matches within one path segment, <c>?</c> one character other
/// than '/', <c>**</c> as a whole segment any number of segments (none included). As in .gitignore, a pattern without
/// '/' matches the last segment at any depth ("*.md" is every Markdown file), one with '/' matches the whole path
/// ("docs/**/*.md"), and a leading '/' anchors a single name to the root ("/build"). A leading "./" and a trailing '/'
/// are ignored. Matching is ordinal (case-sensitive) and needs no recursion (single-star backtracking).
/// </summary>
public sealed class GlobPattern
{
    private const string AnySegments = "**";

    private readonly string[] _segments;

    public GlobPattern(string pattern)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        this.Pattern = pattern;
        string normalized = pattern.Trim().Replace('\\', '/');
        while (normalized.StartsWith("./", StringComparison.Ordinal))
        {
            normalized = normalized[2..];
        }

        bool anchored = normalized.StartsWith('/');
        normalized = normalized.Trim('/');
        if (normalized.Length == 0)
        {
            throw new ArgumentException($"\"{pattern}\" has no path in it; expected a glob like \"*.md\" or \"docs/**\".", nameof(pattern));
        }

        var segments = normalized.Split('/', StringSplitOptions.RemoveEmptyEntries).ToList();
        if (segments.Count == 1 && segments[0] != AnySegments && !anchored)
        {
            segments.Insert(0, AnySegments);
        }

        // Consecutive "**" mean the same as one.
        this._segments = [.. segments.Where((s, i) => s != AnySegments || i == 0 || segments[i - 1] != AnySegments)];
    }

    /// <summary>The pattern as given.</summary>
    public string Pattern { get; }

    /// <summary>Whether <paramref name="relativePath"/> ('/'-separated) matches.</summary>
    public bool IsMatch(string relativePath)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        string[] path = relativePath.Split('/', StringSplitOptions.RemoveEmptyEntries);

        // Classic wildcard matching with "**" as the star over segments: remember the last "**" and retry from there.
        int p = 0;
        int s = 0;
        int starP = -1;
        int starS = 0;
        while (s < path.Length)
        {
            if (p < this._segments.Length && this._segments[p] == AnySegments)
            {
                starP = p++;
                starS = s;
            }
            else if (p < this._segments.Length && SegmentMatches(this._segments[p], path[s]))
            {
                p++;
                s++;
            }
            else if (starP >= 0)
            {
                p = starP + 1;
                s = ++starS;
            }
            else
            {
                return false;
            }
        }

        while (p < this._segments.Length && this._segments[p] == AnySegments)
        {
            p++;
        }

        return p == this._segments.Length;
    }

    public override string ToString() => this.Pattern;

    /// <summary>Matches one segment against <c>*</c> and <c>?</c> wildcards.</summary>
    private static bool SegmentMatches(string pattern, string segment)
    {
        int p = 0;
        int s = 0;
        int starP = -1;
        int starS = 0;
        while (s < segment.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                starP = p++;
                starS = s;
            }
            else if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == segment[s]))
            {
                p++;
                s++;
            }
            else if (starP >= 0)
            {
                p = starP + 1;
                s = ++starS;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
