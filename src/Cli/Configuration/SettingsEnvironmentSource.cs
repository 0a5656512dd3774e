using Microsoft.Extensions.Configuration;

namespace T5Gemma2.Rag.Cli.Configuration;

/// <summary>The configuration source of <see cref="SettingsEnvironmentProvider"/>.</summary>
internal sealed class SettingsEnvironmentSource : IConfigurationSource
{
    public IConfigurationProvider Build(IConfigurationBuilder builder) => new SettingsEnvironmentProvider();
}
