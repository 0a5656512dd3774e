using Microsoft.Data.Sqlite;

namespace T5Gemma2.Rag.Tests.Infrastructure;

/// <summary>Reads an embedded store's default collection database directly, beside a t5rag process that writes it.</summary>
internal static class CollectionDatabase
{
    /// <summary>The count <paramref name="sql"/> returns, read-only; 0 while the database does not exist yet or is busy creating its schema.</summary>
    public static long Count(string store, string sql)
    {
        string path = Path.Combine(store, "default", "collection.db");
        if (!File.Exists(path))
        {
            return 0;
        }

        try
        {
            using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (SqliteException)
        {
            return 0;
        }
    }
}
