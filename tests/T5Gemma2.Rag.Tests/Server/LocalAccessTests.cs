using System.Net;
using Microsoft.AspNetCore.Http;
using T5Gemma2.Rag.Server.Security;

namespace T5Gemma2.Rag.Tests.Server;

/// <summary>Who the keyless mode admits: only the operator on the same machine, once the server is known to listen on loopback alone.</summary>
public sealed class LocalAccessTests
{
    [Fact]
    public void NobodyIsAdmittedBeforeTheServerIsKnownToListenOnLoopbackAlone()
    {
        var access = new LocalAccess();
        Assert.False(access.Admits(Request("127.0.0.1", "localhost:8080")));
        access.ListeningOnLoopbackOnly();
        Assert.True(access.Admits(Request("127.0.0.1", "localhost:8080")));
    }

    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1:8080", null, null, true)]
    [InlineData("::1", "[::1]:8080", null, null, true)]
    [InlineData("::ffff:127.0.0.1", "localhost", "http://localhost:8080", "same-origin", true)]
    [InlineData("203.0.113.9", "127.0.0.1:8080", null, null, false)]
    [InlineData("127.0.0.1", "rebind.evil.example:8080", null, null, false)]
    [InlineData("127.0.0.1", "localhost:8080", "https://evil.example", null, false)]
    [InlineData("127.0.0.1", "localhost:8080", "null", null, false)]
    [InlineData("127.0.0.1", "localhost:8080", null, "cross-site", false)]
    [InlineData("127.0.0.1", "localhost:8080", null, "same-site", false)]
    public void OnlyADirectLoopbackRequestNamingLoopbackFromNoForeignPageIsAdmitted(string remote, string host, string? origin, string? fetchSite, bool admitted)
    {
        var access = new LocalAccess();
        access.ListeningOnLoopbackOnly();
        var request = Request(remote, host);
        if (origin is not null)
        {
            request.Headers.Origin = origin;
        }

        if (fetchSite is not null)
        {
            request.Headers["Sec-Fetch-Site"] = fetchSite;
        }

        Assert.Equal(admitted, access.Admits(request));
        request.Headers["X-Forwarded-For"] = "203.0.113.9";
        Assert.False(access.Admits(request));
    }

    private static HttpRequest Request(string remote, string host)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(remote);
        context.Request.Host = HostString.FromUriComponent(host);
        return context.Request;
    }
}
