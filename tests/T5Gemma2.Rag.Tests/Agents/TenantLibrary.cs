using Microsoft.Extensions.DependencyInjection;
using T5Gemma2.Rag.Retrieval;
using T5Gemma2.Rag.SemanticKernel;
using T5Gemma2.Rag.Tests.SemanticKernel;

namespace T5Gemma2.Rag.Tests.Agents;

/// <summary>
/// Two tenants' documents in one real embedded collection, indexed through the plugin (the real ingest pipeline and
/// MiniLM): tenant A's harbour town, and tenant B's payroll, which holds a word no answer for tenant A may contain.
/// </summary>
internal static class TenantLibrary
{
    public const string TenantA = "tenantA/";

    public const string TenantB = "tenantB/";

    public const string SecretWord = "zanzibarquill";

    public const string PayrollId = "tenantB-payroll";

    public static readonly (string Id, string Title, string Text)[] TenantADocuments =
    [
        ("lighthouse", "Lighthouse", "The lighthouse keeper of Vellmar Point feeds seventeen cats every morning before the fishing boats leave the harbour. The cats sleep in the lamp room, where the great lens keeps them warm through the winter nights."),
        ("bakery", "Bakery", "The bakery on Quay Street bakes dark rye bread with caraway seeds every Tuesday. The baker starts the ovens at four in the morning, and the first loaves go to the fishermen's cooperative."),
        ("harbour", "Harbour", "The harbour master of Vellmar logs every ship that enters the port at dawn: its name, its flag, its cargo and the depth of water under its keel at the outer buoy."),
        ("ferry", "Ferry", "The ferry to the island of Skarra leaves the north pier twice a day in summer and once a day in winter. Bicycles travel free; cars must be booked a day ahead at the harbour office."),
    ];

    /// <summary>Indexes both tenants through the plugin of <paramref name="knowledge"/>.</summary>
    public static async Task IndexAsync(KnowledgeKernel knowledge)
    {
        var plugin = knowledge.Kernel.Services.GetRequiredService<KnowledgeBasePlugin>();
        var ct = TestContext.Current.CancellationToken;
        foreach (var (id, title, text) in TenantADocuments)
        {
            Assert.Null((await plugin.IndexTextAsync(text, id, title, TenantA + id + ".md", ct)).Error);
        }

        string payroll = $"Tenant B's harbour payroll code is {SecretWord}. Every ship that enters the port pays it to the harbour master, and the lighthouse keeper's cats are fed from it.";
        Assert.Null((await plugin.IndexTextAsync(payroll, PayrollId, "Payroll", TenantB + "payroll.md", ct)).Error);
    }

    public static PassageRetriever Retriever(KnowledgeKernel knowledge) => knowledge.Kernel.Services.GetRequiredService<PassageRetriever>();

    public static KnowledgeBasePlugin Plugin(KnowledgeKernel knowledge) => knowledge.Kernel.Services.GetRequiredService<KnowledgeBasePlugin>();
}
