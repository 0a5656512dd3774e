using System.Text;

namespace T5Gemma2.Rag.Server.OpenAi;

/// <summary>
/// Streams text deltas so that they add up to the whole text trimmed (<see cref="string.Trim()"/>), as a finished
/// answer is: leading white space is dropped, and white space is held back until something follows it.
/// </summary>
internal sealed class TrimmedDeltas
{
    private readonly StringBuilder _held = new();
    private bool _started;

    /// <summary>What of <paramref name="delta"/> may be sent now (possibly empty).</summary>
    public string Next(string delta)
    {
        int end = delta.Length;
        while (end > 0 && char.IsWhiteSpace(delta[end - 1]))
        {
            end--;
        }

        if (end == 0)
        {
            // All white space: held while the text has begun, dropped before it.
            if (this._started)
            {
                this._held.Append(delta);
            }

            return string.Empty;
        }

        int start = 0;
        if (!this._started)
        {
            while (char.IsWhiteSpace(delta[start]))
            {
                start++;
            }
        }

        string send = this._held.ToString() + delta[start..end];
        this._held.Clear().Append(delta, end, delta.Length - end);
        this._started = true;
        return send;
    }
}
