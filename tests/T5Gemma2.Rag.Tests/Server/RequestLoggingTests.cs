using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.Logging;
using T5Gemma2.Rag.Server.Telemetry;
using T5Gemma2.Rag.Tests.Infrastructure;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>The request log at the levels a deployment runs: one Information line per API call, probes only at Debug, nothing below Information.</summary>
public sealed class RequestLoggingTests
{
    [Theory]
    [InlineData(LogLevel.Information, "/api/collections/{name}/search", 6000)]
    [InlineData(LogLevel.Information, "/healthz", null)]
    [InlineData(LogLevel.Debug, "/metrics", 6001)]
    [InlineData(LogLevel.Warning, "/api/collections/{name}/search", null)]
    public async Task EachRequestIsOneLineAtItsLevel(LogLevel minimum, string route, int? expected)
    {
        using var logs = new CollectingLoggerProvider();
        using var factory = LoggerFactory.Create(logging => logging.AddProvider(logs).SetMinimumLevel(minimum));
        bool called = false;
        var middleware = new RequestLogging(
            context =>
            {
                called = true;
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            },
            factory.CreateLogger<RequestLogging>());

        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.SetEndpoint(new RouteEndpoint(_ => Task.CompletedTask, RoutePatternFactory.Parse(route), 0, null, null));
        context.Request.RouteValues["name"] = "docs";
        await middleware.InvokeAsync(context);

        Assert.True(called);
        var lines = logs.Records.Where(r => r.Category == typeof(RequestLogging).FullName).ToList();
        Assert.Equal(expected is null ? [] : [expected.Value], lines.Select(r => r.EventId.Id));
        if (expected == 6000)
        {
            Assert.Equal((route, 404, "docs"), ((string?)lines[0]["Route"], (int?)lines[0]["StatusCode"], (string?)lines[0]["Collection"]));
        }
    }
}
