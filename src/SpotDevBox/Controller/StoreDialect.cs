using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace SpotDevBox.Controller;

/// <summary>
/// One migration of <see cref="ControllerStore"/>: the same text for both databases, or a pair when they must differ
/// (the first five are shared). <see cref="StoreDialect.Expand"/> replaces the tokens of either text.
/// </summary>
/// <remarks>A null text: nothing to do on that database (the version still moves on).</remarks>
internal sealed record Migration(string? Sqlite, string Postgres)
{
    public Migration(string shared)
        : this(shared, shared)
    {
    }
}

/// <summary>
/// What differs between the controller's two databases, and only that: how a connection is opened and set up, where
/// the schema version lives and how migrations exclude each other, the DDL tokens, and how a failure to open is told.
/// </summary>
internal abstract class StoreDialect : IDisposable
{
    /// <summary>The one DDL spot that differs: an auto-numbered primary key (<c>decisions.id</c>).</summary>
    internal const string IdentityToken = "{identity_key}";

    /// <summary>The database as messages name it (never a connection string).</summary>
    public abstract string Describe { get; }

    public abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>Before the migration transaction: what must happen outside one (SQLite's directory and WAL mode).</summary>
    public virtual Task PrepareAsync(DbConnection connection, ILogger logger, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>A transaction no other process migrates in at the same time; the second one in sees the new version.</summary>
    public abstract Task<DbTransaction> BeginMigrationAsync(DbConnection connection, CancellationToken cancellationToken);

    public abstract Task<int> ReadVersionAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken);

    public abstract Task WriteVersionAsync(DbConnection connection, DbTransaction transaction, int version, CancellationToken cancellationToken);

    public abstract string? TextOf(Migration migration);

    /// <summary>The migration's text with the dialect's tokens replaced; null when it has nothing to do on this database.</summary>
    public string? Expand(Migration migration) => TextOf(migration)?.Replace(IdentityToken, IdentityKey, StringComparison.Ordinal);

    protected abstract string IdentityKey { get; }

    /// <summary>A failure to open or migrate as one line naming the database and what to do; null: not one this dialect knows.</summary>
    public abstract Exception? Explain(Exception e);

    public abstract void Dispose();

    protected static async Task<object?> ScalarAsync(DbConnection connection, DbTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(cancellationToken);
    }
}

/// <summary>
/// One SQLite file. One pooled connection per call, so calls from several threads (and a second process, such as a
/// CLI verb beside the running controller) share the file through SQLite's own locking: WAL lets readers go on while
/// one writer writes, and the busy timeout makes a writer wait for another instead of failing with SQLITE_BUSY.
/// </summary>
internal sealed partial class SqliteDialect : StoreDialect
{
    internal const int BusyTimeoutMilliseconds = 5000;

    // busy_timeout and synchronous hold per connection, so every connection sets them. FULL rather than
    // NORMAL: in WAL mode NORMAL may lose the last commits on power loss or an OS crash, and the interface
    // promises a write is durable when its task completes (a lost PendingSessionId would mean a launch
    // without the client tokens of the one whose outcome was unknown). The controller writes a few rows a
    // minute, so the extra fsync per commit costs nothing that matters.
    private const string ConnectionPragmas = "PRAGMA busy_timeout = 5000; PRAGMA synchronous = FULL;";

    // SQLite's primary result codes (sqlite3.h).
    private const int ReadOnly = 8;
    private const int Corrupt = 11;
    private const int CannotOpen = 14;
    private const int NotADatabase = 26;

    private readonly string _connectionString;

    public SqliteDialect(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
        }.ToString();
    }

    public string Path { get; }

    public override string Describe => Path;

    // As the file has always been made: SQLite's rowid alias, never reused.
    protected override string IdentityKey => "INTEGER PRIMARY KEY AUTOINCREMENT";

    public override string? TextOf(Migration migration) => migration.Sqlite;

    public override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var pragmas = connection.CreateCommand();
            pragmas.CommandText = ConnectionPragmas;
            await pragmas.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public override async Task PrepareAsync(DbConnection connection, ILogger logger, CancellationToken cancellationToken)
    {
        // Persistent in the file; outside any transaction, and after busy_timeout so a second process that
        // initializes at the same moment waits rather than fails.
        await using var wal = connection.CreateCommand();
        wal.CommandText = "PRAGMA journal_mode = WAL;";
        var mode = Convert.ToString(await wal.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
        {
            LogNotWal(logger, Path, mode ?? "unknown");
        }
    }

    /// <summary>Creates the file's directory; before the first connection, which creates the file.</summary>
    public void CreateDirectory()
    {
        var directory = System.IO.Path.GetDirectoryName(Path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }
    }

    // IMMEDIATE: two processes starting together migrate one after the other, the second sees the new version.
    public override Task<DbTransaction> BeginMigrationAsync(DbConnection connection, CancellationToken cancellationToken) =>
        Task.FromResult<DbTransaction>(((SqliteConnection)connection).BeginTransaction(deferred: false));

    public override async Task<int> ReadVersionAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        Convert.ToInt32(await ScalarAsync(connection, transaction, "PRAGMA user_version;", cancellationToken), CultureInfo.InvariantCulture);

    // A pragma takes no parameter; the value is the store's constant.
    public override Task WriteVersionAsync(DbConnection connection, DbTransaction transaction, int version, CancellationToken cancellationToken) =>
        ScalarAsync(connection, transaction, $"PRAGMA user_version = {version.ToString(CultureInfo.InvariantCulture)};", cancellationToken);

    public override Exception? Explain(Exception e) => e switch
    {
        // Decided here, where the file is known: a verb's user gets one line naming it, not SQLite's stack.
        SqliteException s when s.SqliteErrorCode is NotADatabase or Corrupt =>
            new InvalidDataException($"the controller database {Path} is not an SQLite database or is damaged ({s.Message}); point Controller:Database at another file, or restore it (docs/controller.md, Backups)", e),
        SqliteException s when s.SqliteErrorCode is CannotOpen or ReadOnly =>
            new IOException($"the controller database {Path} cannot be opened for writing ({s.Message}); check its directory's permissions, or point Controller:Database at another file", e),
        _ => null,
    };

    /// <summary>Closes the idle pooled connections to the file, so the last one checkpoints the WAL into it.</summary>
    public override void Dispose()
    {
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
    }

    [LoggerMessage(EventId = 6901, Level = LogLevel.Warning, Message = "Controller database {Path} is in journal mode {Mode}, not WAL (a network file system?): readers will wait for writers")]
    private static partial void LogNotWal(ILogger logger, string path, string mode);
}

/// <summary>
/// A PostgreSQL database, through one Npgsql data source (its pool). The schema version is the one row of
/// <c>schema_version</c>; migrations run under a transaction-scoped advisory lock, so two controllers starting at
/// once migrate one after the other.
/// </summary>
internal sealed class PostgresDialect : StoreDialect
{
    /// <summary>The advisory lock the migrations hold (<c>pg_advisory_xact_lock</c>): "spotdevb" in ASCII, one key for the database.</summary>
    internal const long MigrationLock = 0x73706f7464657662;

    private readonly NpgsqlDataSource _source;

    public PostgresDialect(string connectionString)
    {
        // The slim builder: the types this store reads and writes (text, integers), without the reflection of the full one (native AOT).
        _source = new NpgsqlSlimDataSourceBuilder(connectionString).Build();
    }

    public override string Describe => ControllerDatabase.Postgres.Description;

    protected override string IdentityKey => "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY";

    public override string? TextOf(Migration migration) => migration.Postgres;

    public override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await _source.OpenConnectionAsync(cancellationToken);

    public override async Task<DbTransaction> BeginMigrationAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            await ScalarAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({MigrationLock.ToString(CultureInfo.InvariantCulture)});", cancellationToken);
            await ScalarAsync(connection, transaction, "CREATE TABLE IF NOT EXISTS schema_version (id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);", cancellationToken);
            return transaction;
        }
        catch
        {
            await transaction.DisposeAsync();
            throw;
        }
    }

    public override async Task<int> ReadVersionAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        await ScalarAsync(connection, transaction, "SELECT version FROM schema_version WHERE id = 1;", cancellationToken) is { } found and not DBNull
            ? Convert.ToInt32(found, CultureInfo.InvariantCulture)
            : 0;

    public override Task WriteVersionAsync(DbConnection connection, DbTransaction transaction, int version, CancellationToken cancellationToken) =>
        ScalarAsync(
            connection,
            transaction,
            $"INSERT INTO schema_version (id, version) VALUES (1, {version.ToString(CultureInfo.InvariantCulture)}) ON CONFLICT (id) DO UPDATE SET version = excluded.version;",
            cancellationToken);

    public override Exception? Explain(Exception e) => e switch
    {
        // The server's own text names a database or a user at most, never the password; the connection string is never quoted.
        PostgresException p => new IOException($"{Describe} cannot be opened or migrated ({p.SqlState}: {p.MessageText}); check the server, the database and the role's rights", e),
        NpgsqlException n => new IOException($"{Describe} cannot be reached ({n.Message}); check Host, Port and the server", e),
        _ => null,
    };

    public override void Dispose() => _source.Dispose();
}
