using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace T5Gemma2.Rag.Indexer.Stores.Embedded;

/// <summary>The small SQLite helpers every part of the embedded collection uses: commands, parameters, scalars, the meta table and vector BLOBs.</summary>
internal static class EmbeddedSql
{
    public static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    /// <summary>Sets the parameters, adding those the command does not have yet (so one prepared command serves a loop).</summary>
    public static void SetValues(SqliteCommand command, params (string Name, object? Value)[] values)
    {
        foreach (var (name, value) in values)
        {
            if (command.Parameters.Contains(name))
            {
                command.Parameters[name].Value = value ?? DBNull.Value;
            }
            else
            {
                command.Parameters.AddWithValue(name, value ?? DBNull.Value);
            }
        }
    }

    public static long Scalar(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using var command = Command(connection, transaction, sql);
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    public static string? ReadMeta(SqliteConnection connection, string key)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM meta WHERE key = $key";
        command.Parameters.AddWithValue("$key", key);
        return command.ExecuteScalar() as string;
    }

    /// <summary>The write count the file is at: bumped by every write, in the write's transaction.</summary>
    public static long ReadGeneration(SqliteConnection connection, SqliteTransaction transaction)
    {
        using var command = Command(connection, transaction, "SELECT value FROM meta WHERE key = 'generation'");
        return long.Parse((string)command.ExecuteScalar()!, CultureInfo.InvariantCulture);
    }

    /// <summary>The rowids of a document's passages (<paramref name="select"/> takes <c>$document</c>).</summary>
    public static List<long> ReadRowIds(SqliteCommand select, string documentId)
    {
        SetValues(select, ("$document", documentId));
        using var reader = select.ExecuteReader();
        var rows = new List<long>();
        while (reader.Read())
        {
            rows.Add(reader.GetInt64(0));
        }

        return rows;
    }

    public static float[] ReadVector(SqliteDataReader reader, int ordinal) =>
        MemoryMarshal.Cast<byte, float>((byte[])reader.GetValue(ordinal)).ToArray();

    /// <summary>(rowid, vector) rows of a <c>SELECT rowid, vector</c>.</summary>
    public static IEnumerable<(long RowId, float[] Vector)> ReadVectors(SqliteDataReader reader)
    {
        while (reader.Read())
        {
            yield return (reader.GetInt64(0), ReadVector(reader, 1));
        }
    }
}
