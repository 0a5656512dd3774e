using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using T5Gemma2.Rag.Server.Problems;

namespace T5Gemma2.Rag.Server.Security;

/// <summary>
/// <c>Authorization: Bearer &lt;key&gt;</c>, looked up by hash in the service database on every request (a revoked key
/// stops working at once, on every replica). While no key exists, a caller <see cref="LocalAccess"/> admits without a
/// key is the local operator (admin).
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyStore keys,
    LocalAccess local)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>The scheme's name.</summary>
    public const string SchemeName = "ApiKey";

    internal const string LocalAuthenticationType = "Local";

    private const string FailureItem = "t5rag:auth-failure";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = this.Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header))
        {
            if (local.Admits(this.Request) && !keys.AnyActive())
            {
                return Task.FromResult(Success(Caller.Principal("local", ApiKeyRole.Admin, [ApiKey.AllCollections], LocalAuthenticationType)));
            }

            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return this.Fail("the Authorization header is not 'Bearer <key>'.");
        }

        if (keys.Find(header["Bearer ".Length..].Trim()) is not { } key)
        {
            // One answer for unknown and revoked keys: nothing tells a guesser which it hit.
            return this.Fail("the API key is not valid (unknown or revoked).");
        }

        return Task.FromResult(Success(Caller.Principal(key.Name, key.Role, key.Collections, SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        this.Response.Headers.WWWAuthenticate = "Bearer";
        string detail = this.Context.Items[FailureItem] as string ?? "this endpoint needs an API key: send 'Authorization: Bearer <key>' (t5rag keys create makes one).";
        await ProblemResponses.WriteAsync(this.Context, StatusCodes.Status401Unauthorized, "Unauthorized", detail).ConfigureAwait(false);
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        await ProblemResponses.WriteAsync(this.Context, StatusCodes.Status403Forbidden, "Forbidden", "this API key may not do this.").ConfigureAwait(false);

    private static AuthenticateResult Success(System.Security.Claims.ClaimsPrincipal principal) =>
        AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));

    private Task<AuthenticateResult> Fail(string reason)
    {
        this.Context.Items[FailureItem] = reason;
        return Task.FromResult(AuthenticateResult.Fail(reason));
    }
}
