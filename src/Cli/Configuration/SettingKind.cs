namespace T5Gemma2.Rag.Cli.Configuration;

/// <summary>What a setting's value must be.</summary>
internal enum SettingKind
{
    /// <summary>Any string (a path, a name, a URL).</summary>
    Text,

    /// <summary>A whole number of 1 or more.</summary>
    PositiveInteger,

    /// <summary>A whole number of 0 or more (an overlap of 0 means none, as <c>--overlap 0</c> does).</summary>
    Count,

    /// <summary>dense, keyword or hybrid, in any case.</summary>
    SearchMode,
}
