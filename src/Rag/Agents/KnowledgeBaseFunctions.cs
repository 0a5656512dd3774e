using System.Reflection;
using Microsoft.Extensions.AI;
using Microsoft.SemanticKernel;
using T5Gemma2.Rag.SemanticKernel;

namespace T5Gemma2.Rag.Agents;

/// <summary>
/// <see cref="KnowledgeBasePlugin"/>'s functions as Microsoft.Extensions.AI <see cref="AIFunction"/>s, for a
/// <c>ChatClientAgent</c>'s tools or any <see cref="IChatClient"/> with function invocation: <c>search</c>, <c>ask</c>,
/// <c>index_text</c> and <c>forget_document</c>, each made by <see cref="AIFunctionFactory"/> over the plugin's own
/// method, with its name and the descriptions of it and its parameters. Validation, the host's filter and file roots,
/// and errors returned as the result's <c>Error</c> are the plugin's, so they are the same as under Semantic Kernel and MCP.
/// </summary>
/// <remarks>
/// <c>index_file</c> is not among them: it reads files of the host by path, which an agent's model rarely should; a
/// host that wants it passes its name to <see cref="Create(KnowledgeBasePlugin, IEnumerable{string})"/> (the plugin's
/// <see cref="KnowledgeBaseOptions.FileRoots"/> still bound it).
/// </remarks>
public static class KnowledgeBaseFunctions
{
    /// <summary>The functions offered by default, in this order.</summary>
    public static IReadOnlyList<string> DefaultNames { get; } = ["search", "ask", "index_text", "forget_document"];

    /// <summary>The plugin's <see cref="DefaultNames"/> functions.</summary>
    public static IReadOnlyList<AIFunction> Create(KnowledgeBasePlugin plugin) => Create(plugin, DefaultNames);

    /// <summary>The plugin's functions of these names (its Semantic Kernel function names), in this order.</summary>
    /// <exception cref="ArgumentException">A name is not one of the plugin's functions.</exception>
    public static IReadOnlyList<AIFunction> Create(KnowledgeBasePlugin plugin, IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(plugin);
        ArgumentNullException.ThrowIfNull(names);
        var methods = typeof(KnowledgeBasePlugin).GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Select(m => (Method: m, m.GetCustomAttribute<KernelFunctionAttribute>()?.Name))
            .Where(f => f.Name is not null)
            .ToDictionary(f => f.Name!, f => f.Method, StringComparer.Ordinal);
        return [.. names.Select(name => methods.TryGetValue(name, out var method)
            ? AIFunctionFactory.Create(method, plugin, new AIFunctionFactoryOptions { Name = name })
            : throw new ArgumentException($"'{name}' is not a function of KnowledgeBasePlugin; expected one of {string.Join(", ", methods.Keys.Order(StringComparer.Ordinal))}.", nameof(names)))];
    }
}
