using Microsoft.Extensions.Configuration.EnvironmentVariables;

namespace T5Gemma2.Rag.Cli.Configuration;

/// <summary>
/// The environment, as Microsoft.Extensions.Configuration reads it (<c>__</c> for ':'; names in any case), kept to the
/// settings and keyed as the file keys them. Each setting comes from its flat variable (<c>T5RAG_SEARCH_TOP</c>,
/// <c>QDRANT_URL</c>) or from the standard form (<c>T5RAG_SEARCH__TOP</c>); both set to different values is an error.
/// Every other variable is left out: no prefix is given to the base provider because two are read (T5RAG_, and
/// QDRANT_ for the server's URL and key), and the rest under them belong to other programs (compose's T5RAG_DOCS,
/// the Qdrant server's own QDRANT__SERVICE__API_KEY).
/// </summary>
internal sealed class SettingsEnvironmentProvider : EnvironmentVariablesConfigurationProvider
{
    private readonly Dictionary<string, string> _variables = new(StringComparer.OrdinalIgnoreCase);

    /// <exception cref="InputFileException">A setting's two variables are both set, to different values.</exception>
    public override void Load()
    {
        base.Load();
        var environment = this.Data;
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        this._variables.Clear();
        foreach (var setting in SettingKey.All)
        {
            // The base provider has already made T5RAG_SEARCH__TOP the key "T5RAG_SEARCH:TOP"; a top-level setting's
            // two names are one variable (T5RAG_MODEL).
            string standard = T5RagSettings.EnvironmentPrefix + setting.Key;
            foreach (string name in new[] { setting.Variable, standard }.Distinct(StringComparer.OrdinalIgnoreCase))
            {
                // An empty variable is an unset one (compose passes QDRANT_API_KEY: ${…:-}).
                if (!environment.TryGetValue(name, out string? value) || string.IsNullOrEmpty(value))
                {
                    continue;
                }

                string variable = name == standard ? setting.StandardVariable : setting.Variable;
                if (settings.TryGetValue(setting.Key, out string? other) && other != value)
                {
                    throw new InputFileException(variable, $"is \"{value}\" but {this._variables[setting.Key]} is \"{other}\"; expected one of the two, or both the same.");
                }

                settings[setting.Key] = value;
                this._variables[setting.Key] = variable;
            }
        }

        this.Data = settings;
    }

    /// <summary>The error for a value the setting does not take, naming the variable it came from.</summary>
    public InputFileException Fault(SettingKey setting, string value) =>
        new(this._variables[setting.Key], $"\"{value}\" is not {setting.Expected}.");
}
