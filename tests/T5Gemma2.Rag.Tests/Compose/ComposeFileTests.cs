using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using T5Gemma2.Rag.Tests.Infrastructure;
using T5Gemma2.Rag.Tests.Server;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace T5Gemma2.Rag.Tests.Compose;

/// <summary>
/// compose/: the files parse (anchors and merge keys as Compose reads them), every service names its health check,
/// what waits for health waits for a service that has one, the knowledge-base services run <c>t5rag serve</c> as the
/// README says, the cluster's load balancer sends writes to the ingesting replica, the Dockerfile restores every
/// project onto the ASP.NET Core image, and the health check the t5rag services run answers on a real server. No
/// Docker engine runs here: the files are checked, not run.
/// </summary>
public sealed class ComposeFileTests
{
    public static TheoryData<string> Files => new() { "docker-compose.yml", "cluster.yml" };

    private static string ComposeDirectory => Path.Combine(TestAssets.RepositoryRoot, "compose");

    [Theory]
    [MemberData(nameof(Files))]
    public void EveryServiceNamesItsHealthCheck(string file)
    {
        var services = Services(Load(file));
        Assert.NotEmpty(services);
        foreach (var (name, service) in services)
        {
            Assert.True(service.Children.TryGetValue("healthcheck", out var node), $"{file}: service {name} has no healthcheck");
            var health = Assert.IsType<YamlMappingNode>(node);
            if (health.Children.TryGetValue("disable", out var disabled))
            {
                // Only a one-shot run may go without one, and it says so.
                Assert.Equal("true", Scalar(disabled));
                Assert.False(service.Children.ContainsKey("restart"), $"{file}: {name} restarts, so it runs on and needs a health check");
                continue;
            }

            var test = Assert.IsType<YamlSequenceNode>(health["test"]).Children.Select(Scalar).ToList();
            Assert.True(test.Count >= 2 && test[0] is "CMD" or "CMD-SHELL", $"{file}: {name}'s healthcheck test is [{string.Join(", ", test)}]");
            foreach (string key in new[] { "interval", "timeout", "retries" })
            {
                Assert.True(health.Children.ContainsKey(key), $"{file}: {name}'s healthcheck has no {key}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void WhatWaitsForHealthWaitsForAServiceWithAHealthCheckAndEveryVolumeIsDeclared(string file)
    {
        var root = Load(file);
        var services = Services(root);
        var declared = root.Children.TryGetValue("volumes", out var volumes) ? ((YamlMappingNode)volumes).Children.Keys.Select(Scalar).ToHashSet() : [];
        foreach (var (name, service) in services)
        {
            if (service.Children.TryGetValue("depends_on", out var dependsOn))
            {
                foreach (var (dependency, how) in ((YamlMappingNode)dependsOn).Children)
                {
                    string other = Scalar(dependency);
                    Assert.True(services.ContainsKey(other), $"{file}: {name} depends on {other}, which is no service");
                    if (Scalar(((YamlMappingNode)how)["condition"]) == "service_healthy")
                    {
                        Assert.False(((YamlMappingNode)services[other]["healthcheck"]).Children.ContainsKey("disable"), $"{file}: {name} waits for {other} to be healthy, which has no health check");
                    }
                }
            }

            foreach (string mount in Volumes(service))
            {
                string source = mount.Split(':')[0];
                if (source.StartsWith("./", StringComparison.Ordinal))
                {
                    Assert.True(File.Exists(Path.Combine(ComposeDirectory, source)), $"{file}: {name} mounts {source}, which compose/ lacks");
                }
                else if (!source.StartsWith("${", StringComparison.Ordinal) && !source.StartsWith("../", StringComparison.Ordinal))
                {
                    Assert.True(declared.Contains(source), $"{file}: {name} mounts the volume {source}, which is not declared");
                }
            }
        }
    }

    [Fact]
    public void TheServiceServesBesideQdrantWithItsModelsReadOnlyAndItsDataOnAVolume()
    {
        var root = Load("docker-compose.yml");
        var services = Services(root);
        var server = Assert.Single(services, s => Command(s.Value).FirstOrDefault() == "serve");
        Assert.Equal("t5rag", server.Key);
        AssertServes(services, server.Value, "docker-compose.yml");
        Assert.DoesNotContain("--no-ingest", Command(server.Value));

        // A port on 127.0.0.1 unless told otherwise, as Qdrant's.
        Assert.Contains("${T5RAG_BIND:-127.0.0.1}:8080:8080", ((YamlSequenceNode)server.Value["ports"]).Children.Select(Scalar));
    }

    [Fact]
    public void TheClusterRunsTwoReadReplicasAndOneIngestingOneBehindABalancerThatSendsWritesToIt()
    {
        var services = Services(Load("cluster.yml"));
        var replicas = services.Where(s => Command(s.Value).FirstOrDefault() == "serve").ToDictionary(s => s.Key, s => s.Value);
        Assert.Equal(3, replicas.Count);
        var readers = replicas.Where(r => Command(r.Value).Contains("--no-ingest")).Select(r => r.Key).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(2, readers.Count);
        string ingest = Assert.Single(replicas.Keys.Except(readers));
        foreach (var (_, replica) in replicas)
        {
            AssertServes(services, replica, "cluster.yml");
        }

        // One service database: the same path on the same volume in every replica.
        Assert.Single(replicas.Values.Select(r => Option(Command(r), "--service-db")).Distinct());
        Assert.Single(replicas.Values.Select(r => Volumes(r).Single(v => v.EndsWith(":/data", StringComparison.Ordinal))).Distinct());

        // The balancer: nginx with compose/nginx.conf, after every replica is healthy, the only published 8080.
        var balancer = Assert.Single(services, s => s.Value.Children.TryGetValue("image", out var image) && Scalar(image).StartsWith("nginx:", StringComparison.Ordinal)).Value;
        Assert.Contains("./nginx.conf:/etc/nginx/conf.d/default.conf:ro", Volumes(balancer));
        Assert.Equal(replicas.Keys.Order(StringComparer.Ordinal), ((YamlMappingNode)balancer["depends_on"]).Children.Keys.Select(Scalar).Order(StringComparer.Ordinal));
        Assert.All(replicas.Values, r => Assert.False(r.Children.ContainsKey("ports")));

        string nginx = File.ReadAllText(Path.Combine(ComposeDirectory, "nginx.conf"));
        Assert.Equal(readers.Select(r => $"{r}:8080"), Upstream(nginx, "t5rag_read"));
        Assert.Equal([$"{ingest}:8080"], Upstream(nginx, "t5rag_ingest"));
        Assert.Equal("http://t5rag_ingest", Location(nginx, "/api/jobs"));
        Assert.Equal("http://t5rag_ingest", Location(nginx, "/mcp"));
        Assert.Equal("http://t5rag_read", Location(nginx, @"~ ^/api/collections/[^/]+/(search|ask)$"));
        Assert.Equal("http://$t5rag_api", Location(nginx, "/api/"));
        var methods = Regex.Match(nginx, @"map \$request_method \$t5rag_api \{([^}]*)\}").Groups[1].Value;
        Assert.Equal(["GET t5rag_read", "HEAD t5rag_read", "default t5rag_ingest"], methods.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => l.Length > 0).Select(l => Regex.Replace(l, @"\s+", " ")));
    }

    [Fact]
    public void TheDockerfileRestoresEveryProjectAndRunsOnTheAspNetCoreImage()
    {
        string[] lines = File.ReadAllLines(Path.Combine(ComposeDirectory, "Dockerfile"));
        int restore = Array.FindIndex(lines, l => l.StartsWith("RUN dotnet restore", StringComparison.Ordinal));
        Assert.True(restore > 0);
        var copied = lines[..restore].Where(l => l.StartsWith("COPY src/", StringComparison.Ordinal)).Select(l => l.Split(' ')[1]).ToHashSet();
        foreach (string project in Directory.EnumerateFiles(Path.Combine(TestAssets.RepositoryRoot, "src"), "*.csproj", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(TestAssets.RepositoryRoot, project).Replace('\\', '/');
            Assert.True(copied.Contains(relative), $"compose/Dockerfile restores without {relative}");
        }

        Assert.StartsWith("FROM mcr.microsoft.com/dotnet/aspnet:", lines.Last(l => l.StartsWith("FROM ", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Contains("EXPOSE 8080", lines);
    }

    [Fact]
    public async Task TheServicesHealthCheckPassesOnARealServerAndFailsOnAnythingButA200()
    {
        var test = ((YamlSequenceNode)((YamlMappingNode)Services(Load("docker-compose.yml"))["t5rag"]["healthcheck"])["test"]).Children.Select(Scalar).ToList();
        Assert.Equal(["CMD", "bash", "-c"], test[..3]);
        string script = test[3];
        Assert.Contains("/dev/tcp/127.0.0.1/8080", script, StringComparison.Ordinal);
        string At(int port) => script.Replace("/8080", $"/{port}", StringComparison.Ordinal);

        // The server as the container runs it (models loaded, store open before it listens): ready.
        using (var server = new KnowledgeBaseServerFactory())
        {
            server.UseKestrel(0);
            server.StartServer();
            Assert.True(server.Collections.IsReady);
            Assert.Equal(0, await BashAsync(At(new Uri(server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port)));
        }

        // What /readyz answers while the models load or the store is gone: 503 (a listener that answers only that).
        using var unready = new TcpListener(IPAddress.Loopback, 0);
        unready.Start();
        var answered = AnswerOnceAsync(unready, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 5\r\n\r\n");
        Assert.NotEqual(0, await BashAsync(At(((IPEndPoint)unready.LocalEndpoint).Port)));
        Assert.Equal("GET /readyz HTTP/1.0", await answered.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));

        // Nobody listening.
        Assert.NotEqual(0, await BashAsync(At(FreePort())));
    }

    /// <summary>What every <c>t5rag serve</c> service shares: on 0.0.0.0:8080, over Qdrant, models read-only, the service database on a volume, a /readyz check.</summary>
    private static void AssertServes(Dictionary<string, YamlMappingNode> services, YamlMappingNode service, string file)
    {
        var command = Command(service);
        Assert.Equal("http://0.0.0.0:8080", Option(command, "--urls"));
        Assert.Equal("qdrant", Option(command, "--store"));
        Assert.StartsWith("/models/", Option(command, "--model"), StringComparison.Ordinal);
        Assert.StartsWith("/data/", Option(command, "--service-db"), StringComparison.Ordinal);

        var volumes = Volumes(service);
        Assert.Contains(volumes, v => v.EndsWith(":/models:ro", StringComparison.Ordinal));
        string data = Assert.Single(volumes, v => v.EndsWith(":/data", StringComparison.Ordinal));
        Assert.DoesNotContain('/', data.Split(':')[0]); // a named volume, not a folder of the host

        // QDRANT_URL names a Qdrant service of the same file, on its gRPC port.
        var url = new Uri(Scalar(((YamlMappingNode)service["environment"])["QDRANT_URL"]));
        Assert.True(services.TryGetValue(url.Host, out var qdrant), $"{file}: QDRANT_URL {url} names no service");
        Assert.StartsWith("qdrant/qdrant:", Scalar(qdrant!["image"]), StringComparison.Ordinal);
        Assert.Equal(6334, url.Port);

        string check = string.Join(' ', ((YamlSequenceNode)((YamlMappingNode)service["healthcheck"])["test"]).Children.Select(Scalar));
        Assert.Contains("127.0.0.1/8080", check, StringComparison.Ordinal);
        Assert.Contains("GET /readyz", check, StringComparison.Ordinal);
    }

    private static YamlMappingNode Load(string file)
    {
        var stream = new YamlStream();
        using var reader = new StringReader(File.ReadAllText(Path.Combine(ComposeDirectory, file)));

        // Compose applies merge keys (<<: *anchor) before it reads a service: so does the merging parser.
        stream.Load(new MergingParser(new Parser(reader)));
        return Assert.IsType<YamlMappingNode>(Assert.Single(stream.Documents).RootNode);
    }

    private static Dictionary<string, YamlMappingNode> Services(YamlMappingNode root) =>
        ((YamlMappingNode)root["services"]).Children.ToDictionary(s => Scalar(s.Key), s => (YamlMappingNode)s.Value);

    /// <summary>The command as Compose splits it: a list as it is, a string at its spaces (none is quoted in these files).</summary>
    private static List<string> Command(YamlMappingNode service) => !service.Children.TryGetValue("command", out var command) ? []
        : command is YamlSequenceNode list ? [.. list.Children.Select(Scalar)]
        : [.. Scalar(command).Split(' ', StringSplitOptions.RemoveEmptyEntries)];

    private static string? Option(List<string> command, string name) => command.IndexOf(name) is int i and >= 0 && i + 1 < command.Count ? command[i + 1] : null;

    private static List<string> Volumes(YamlMappingNode service) => service.Children.TryGetValue("volumes", out var volumes) ? [.. ((YamlSequenceNode)volumes).Children.Select(Scalar)] : [];

    private static string Scalar(YamlNode node) => Assert.IsType<YamlScalarNode>(node).Value!;

    private static List<string> Upstream(string nginx, string name) =>
        [.. Regex.Matches(Regex.Match(nginx, $@"upstream {name} \{{([^}}]*)\}}").Groups[1].Value, @"^\s*server\s+(\S+);", RegexOptions.Multiline).Select(m => m.Groups[1].Value)];

    private static string Location(string nginx, string where) =>
        Regex.Match(nginx, $@"location {Regex.Escape(where)} \{{\s*proxy_pass ([^;]+);").Groups[1].Value;

    private static async Task<int> BashAsync(string script)
    {
        using var bash = Process.Start(new ProcessStartInfo("bash", ["-c", script]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        await bash.WaitForExitAsync(TestContext.Current.CancellationToken);
        return bash.ExitCode;
    }

    /// <summary>Accepts one connection, answers <paramref name="response"/>, and returns the request line it got.</summary>
    private static async Task<string> AnswerOnceAsync(TcpListener listener, string response)
    {
        using var client = await listener.AcceptTcpClientAsync(TestContext.Current.CancellationToken);
        using var stream = client.GetStream();
        using var reader = new StreamReader(stream, leaveOpen: true);
        string requestLine = await reader.ReadLineAsync(TestContext.Current.CancellationToken) ?? string.Empty;
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(response), TestContext.Current.CancellationToken);
        return requestLine;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
