using System.Buffers;

namespace T5Gemma2.Rag.Encoder.Tokenization;

/// <summary>
/// Finds added tokens in raw text the way Hugging Face does for tokens with <c>normalized: false</c>: the leftmost
/// match wins, and at that position the longest token. A character trie keeps each probe linear in the token length,
/// and a vectorized search skips straight to the characters that can start a token.
/// </summary>
internal sealed class AddedTokenMatcher
{
    private readonly Node _root = new();
    private readonly SearchValues<char> _firstChars;

    public AddedTokenMatcher(IEnumerable<AddedToken> tokens)
    {
        var firstChars = new HashSet<char>();
        foreach (var token in tokens)
        {
            var node = this._root;
            foreach (char c in token.Content)
            {
                node.Children ??= [];
                if (!node.Children.TryGetValue(c, out var child))
                {
                    child = new Node();
                    node.Children[c] = child;
                }

                node = child;
            }

            node.TokenId = token.Id;
            firstChars.Add(token.Content[0]);
        }

        this._firstChars = SearchValues.Create([.. firstChars]);
    }

    /// <summary>Finds the leftmost-longest added token in <paramref name="text"/> at or after <paramref name="start"/>.</summary>
    /// <returns>True when one was found.</returns>
    public bool TryFindNext(ReadOnlySpan<char> text, int start, out int matchStart, out int matchLength, out int tokenId)
    {
        int position = start;
        while (position < text.Length)
        {
            int offset = text[position..].IndexOfAny(this._firstChars);
            if (offset < 0)
            {
                break;
            }

            position += offset;
            if (this.TryMatchAt(text, position, out matchLength, out tokenId))
            {
                matchStart = position;
                return true;
            }

            position++;
        }

        matchStart = matchLength = 0;
        tokenId = -1;
        return false;
    }

    private bool TryMatchAt(ReadOnlySpan<char> text, int position, out int length, out int tokenId)
    {
        length = 0;
        tokenId = -1;
        var node = this._root;
        for (int i = position; i < text.Length && node.Children is not null && node.Children.TryGetValue(text[i], out var next); i++)
        {
            node = next;
            if (node.TokenId >= 0)
            {
                length = i - position + 1;
                tokenId = node.TokenId;
            }
        }

        return tokenId >= 0;
    }

    private sealed class Node
    {
        public Dictionary<char, Node>? Children;
        public int TokenId = -1;
    }
}
