using Microsoft.Data.Sqlite;

namespace T5Gemma2.Rag.Indexer.Stores.Embedded;

/// <summary>What a failed SQLite or file call means for the collection, and the one-line message for a damaged file.</summary>
internal static class EmbeddedErrors
{
    public static bool IsReadOnlyError(Exception ex) =>
        ex is UnauthorizedAccessException
        || (ex is IOException && ex is not FileNotFoundException)
        || (ex is SqliteException s && s.SqliteErrorCode is 8 or 14); // SQLITE_READONLY, SQLITE_CANTOPEN

    public static bool IsBusy(SqliteException ex) => ex.SqliteErrorCode is 5 or 6; // SQLITE_BUSY, SQLITE_LOCKED

    public static bool IsDamaged(SqliteException ex) => ex.SqliteErrorCode is 11 or 26; // SQLITE_CORRUPT, SQLITE_NOTADB

    public static bool IsDiskFull(SqliteException ex) => ex.SqliteErrorCode == 13; // SQLITE_FULL

    /// <summary>One line naming the file and what to do: the vectors and text live only in it, so it is restored or rebuilt.</summary>
    public static StoreException Damaged(string path, SqliteException ex) => new(
        $"{path}: not a readable collection database, damaged or overwritten ({FirstLine(ex.Message)}); restore it from a backup, or delete the collection (t5rag collections delete {Path.GetFileName(Path.GetDirectoryName(path))}) and index again.", ex);

    public static string FirstLine(string message) => message.Split('\n')[0].Trim();
}
