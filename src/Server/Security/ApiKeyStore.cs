using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using T5Gemma2.Rag.Server.Collections;
using T5Gemma2.Rag.Server.Data;

namespace T5Gemma2.Rag.Server.Security;

/// <summary>
/// Creates, finds, lists and revokes API keys in the service database. A key is 32 random bytes, shown once as
/// <c>t5rag_</c> and base64url; only its SHA-256 is stored, so the file leaks no key, and a lookup is by hash.
/// </summary>
public sealed class ApiKeyStore
{
    /// <summary>What every key starts with, so a leaked one is easy to recognise (secret scanners, logs).</summary>
    public const string KeyPrefix = "t5rag_";

    private readonly ServiceDatabase _database;

    public ApiKeyStore(ServiceDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        this._database = database;
    }

    /// <summary>Creates a key; returns the key itself (shown once, never stored) and its record.</summary>
    /// <exception cref="ArgumentException">The name is empty or taken, or the collections are empty or malformed.</exception>
    public (string Key, ApiKey Record) Create(string name, ApiKeyRole role, IReadOnlyList<string> collections)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(collections);
        string label = name.Trim();
        List<string> scope = [.. collections.Select(c => c.Trim()).Where(c => c.Length > 0).Distinct(StringComparer.Ordinal)];
        if (scope.Count == 0)
        {
            throw new ArgumentException("--collections is empty: expected collection names separated by commas, or * for every collection.", nameof(collections));
        }

        if (scope.FirstOrDefault(c => c != ApiKey.AllCollections && !CollectionNames.IsValid(c)) is { } bad)
        {
            throw new ArgumentException($"--collections: '{bad}' is not a collection name ({CollectionNames.Rule}).", nameof(collections));
        }

        // An admin manages every collection and every key: a list would not limit it, so none is taken.
        if (role == ApiKeyRole.Admin && !scope.SequenceEqual([ApiKey.AllCollections]))
        {
            throw new ArgumentException("an admin key manages every collection and key; give --collections * (or a writer key for these collections).", nameof(collections));
        }

        string key = KeyPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var record = new ApiKey(label, key[..(KeyPrefix.Length + 6)], role, scope, DateTimeOffset.UtcNow, null);
        using var connection = this._database.Connect();
        using var command = connection.CreateCommand();

        // A revoked key's name may be used again: its row goes, in the same statement batch as the new one's insert.
        command.CommandText = "DELETE FROM api_keys WHERE name = $name AND revoked_at IS NOT NULL; INSERT INTO api_keys(name, hash, prefix, role, collections, created_at) VALUES ($name, $hash, $prefix, $role, $collections, $created)";
        command.Parameters.AddWithValue("$name", label);
        command.Parameters.AddWithValue("$hash", Hash(key));
        command.Parameters.AddWithValue("$prefix", record.Prefix);
        command.Parameters.AddWithValue("$role", role.ToString().ToLowerInvariant());
        command.Parameters.AddWithValue("$collections", string.Join(',', scope));
        command.Parameters.AddWithValue("$created", record.CreatedAt.ToString("O", CultureInfo.InvariantCulture));
        try
        {
            command.ExecuteNonQuery();
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == 19)
        {
            throw new ArgumentException($"a key named '{label}' exists already; revoke it first or pick another name.", nameof(name), ex);
        }

        return (key, record);
    }

    /// <summary>The active key <paramref name="key"/> is, or null when it is unknown or revoked.</summary>
    public ApiKey? Find(string key)
    {
        if (string.IsNullOrEmpty(key) || key.Length > 256)
        {
            return null;
        }

        using var connection = this._database.Connect();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name, prefix, role, collections, created_at, revoked_at FROM api_keys WHERE hash = $hash AND revoked_at IS NULL";
        command.Parameters.AddWithValue("$hash", Hash(key));
        using var reader = command.ExecuteReader();
        return reader.Read() ? Read(reader) : null;
    }

    /// <summary>Every key, revoked ones included, by name.</summary>
    public IReadOnlyList<ApiKey> List()
    {
        using var connection = this._database.Connect();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name, prefix, role, collections, created_at, revoked_at FROM api_keys ORDER BY name";
        using var reader = command.ExecuteReader();
        var keys = new List<ApiKey>();
        while (reader.Read())
        {
            keys.Add(Read(reader));
        }

        return keys;
    }

    /// <summary>Whether any key works: with none, the server serves loopback only, without keys.</summary>
    public bool AnyActive()
    {
        using var connection = this._database.Connect();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT EXISTS(SELECT 1 FROM api_keys WHERE revoked_at IS NULL)";
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) != 0;
    }

    /// <summary>Revokes the key named <paramref name="name"/>; false when there is no active key of that name.</summary>
    public bool Revoke(string name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return false;
        }

        using var connection = this._database.Connect();
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE api_keys SET revoked_at = $now WHERE name = $name AND revoked_at IS NULL";
        command.Parameters.AddWithValue("$name", name.Trim());
        command.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        return command.ExecuteNonQuery() > 0;
    }

    private static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static ApiKey Read(SqliteDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        Enum.Parse<ApiKeyRole>(reader.GetString(2), ignoreCase: true),
        reader.GetString(3).Split(',', StringSplitOptions.RemoveEmptyEntries),
        DateTimeOffset.Parse(reader.GetString(4), CultureInfo.InvariantCulture),
        reader.IsDBNull(5) ? null : DateTimeOffset.Parse(reader.GetString(5), CultureInfo.InvariantCulture));
}
