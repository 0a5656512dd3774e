using System.Net;
using Microsoft.AspNetCore.Http;

namespace T5Gemma2.Rag.Server.Security;

/// <summary>
/// Who may call without a key while no key exists: the operator on the same machine, and nobody a network or a
/// browser brings. A request is admitted only when the server was found to listen on loopback alone (decided once,
/// after it bound its addresses and before it serves keyless callers: until then nobody is admitted, and revoking the
/// last key of a server on 0.0.0.0 does not open it), it comes from a loopback address, names a loopback
/// host (no DNS rebinding), carries no browser origin other than loopback and no sign of a cross-site fetch (no page
/// open in a browser can drive it), and no proxy forwarded it.
/// </summary>
public sealed class LocalAccess
{
    private volatile bool _loopbackOnly;

    /// <summary>Records that the server listens on loopback alone (or in process, as a test host does): from then on the local operator is admitted without a key while none exists.</summary>
    public void ListeningOnLoopbackOnly() => this._loopbackOnly = true;

    /// <summary>Whether <paramref name="request"/> comes from the local operator.</summary>
    public bool Admits(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var headers = request.Headers;
        if (!this._loopbackOnly || headers.ContainsKey("Forwarded") || headers.ContainsKey("X-Forwarded-For"))
        {
            return false;
        }

        if (!IsLoopback(request.HttpContext.Connection.RemoteIpAddress) || !IsLoopbackHost(request.Host.Host))
        {
            return false;
        }

        if (headers.Origin is { Count: > 0 } origin && !(Uri.TryCreate(origin.ToString(), UriKind.Absolute, out var uri) && IsLoopbackHost(uri.Host)))
        {
            return false;
        }

        return headers["Sec-Fetch-Site"].ToString() is "" or "same-origin" or "none";
    }

    /// <summary>Loopback, IPv4-mapped loopback included; a request with no remote address (an in-process test host) counts as local.</summary>
    internal static bool IsLoopback(IPAddress? address) =>
        address is null || IPAddress.IsLoopback(address) || (address.IsIPv4MappedToIPv6 && IPAddress.IsLoopback(address.MapToIPv4()));

    /// <summary>localhost, 127.x, ::1 (with or without brackets); empty for a test host's requests, which name none.</summary>
    internal static bool IsLoopbackHost(string host) =>
        host.Length == 0 || host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IsLoopback(ip));
}
