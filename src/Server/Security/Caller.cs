using System.Security.Claims;

namespace T5Gemma2.Rag.Server.Security;

/// <summary>
/// Who is calling, as the endpoints check it: the key's name, role and collections. Collections are a ceiling: no
/// filter, model name, MCP argument or document id reaches past them, because every endpoint that names a collection
/// asks <see cref="CanRead"/> or <see cref="CanWrite"/> first.
/// </summary>
public sealed class Caller
{
    internal const string RoleClaim = "t5rag:role";
    internal const string CollectionClaim = "t5rag:collection";

    private Caller(string name, ApiKeyRole role, IReadOnlyList<string> collections)
    {
        this.Name = name;
        this.Role = role;
        this.Collections = collections;
    }

    /// <summary>The key's name; <c>local</c> for a keyless loopback caller.</summary>
    public string Name { get; }

    public ApiKeyRole Role { get; }

    /// <summary>The collections the key covers (<c>*</c>: all).</summary>
    public IReadOnlyList<string> Collections { get; }

    public bool IsAdmin => this.Role == ApiKeyRole.Admin;

    /// <summary>Whether the caller may search and ask <paramref name="collection"/> (and learn that it exists).</summary>
    public bool CanRead(string collection) => this.IsAdmin || this.Collections.Contains(ApiKey.AllCollections) || this.Collections.Contains(collection, StringComparer.Ordinal);

    /// <summary>Whether the caller may upload to and delete from <paramref name="collection"/>.</summary>
    public bool CanWrite(string collection) => this.Role >= ApiKeyRole.Writer && this.CanRead(collection);

    /// <summary>The caller an authenticated request carries.</summary>
    /// <exception cref="InvalidOperationException">The request was not authenticated (an endpoint mapped without authorization: a bug).</exception>
    public static Caller From(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (user.Identity?.IsAuthenticated != true || user.FindFirst(RoleClaim) is not { } role)
        {
            throw new InvalidOperationException("the request has no authenticated caller; the endpoint must require authorization.");
        }

        return new Caller(
            user.Identity.Name ?? "?",
            Enum.Parse<ApiKeyRole>(role.Value),
            [.. user.FindAll(CollectionClaim).Select(c => c.Value)]);
    }

    internal static ClaimsPrincipal Principal(string name, ApiKeyRole role, IEnumerable<string> collections, string authenticationType) =>
        new(new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, name), new Claim(RoleClaim, role.ToString()), .. collections.Select(c => new Claim(CollectionClaim, c))],
            authenticationType));
}
