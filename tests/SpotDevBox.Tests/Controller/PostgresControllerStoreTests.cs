using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using SpotDevBox.Controller;
using SpotDevBox.Core.Controller;
using TestSupport;

namespace SpotDevBox.Tests.Controller;

/// <summary>
/// The store on PostgreSQL: a database per test class on the test process's one throwaway server
/// (<see cref="PostgresServer"/>, Debian's postgresql, installed by scripts/test), and in it a fresh schema per test,
/// which the store's connections find first on their search path: as empty as a new database, for a millisecond
/// instead of a CREATE DATABASE's checkpoints.
/// </summary>
public sealed class PostgresControllerStoreTests(PostgresClassDatabase classDatabase) : ControllerStoreTests, IClassFixture<PostgresClassDatabase>
{
    private readonly string _schema = "t_" + Guid.NewGuid().ToString("N");

    private PostgresServer Server => classDatabase.Server;

    private string DatabaseName => classDatabase.Name;

    private protected override ControllerDatabase Database => new ControllerDatabase.Postgres(ConnectionString(pooling: true));

    private string ConnectionString(bool pooling = false) =>
        new NpgsqlConnectionStringBuilder(Server.ConnectionString(DatabaseName, pooling)) { SearchPath = _schema }.ConnectionString;

    public override Task InitializeAsync() => RawScalarAsync($"CREATE SCHEMA {_schema}");

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await RawScalarAsync($"DROP SCHEMA {_schema} CASCADE");
    }

    private protected override async Task<object?> RawScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    private protected override async Task<long> SchemaVersionAsync() => Convert.ToInt64(await RawScalarAsync("SELECT version FROM schema_version WHERE id = 1"), System.Globalization.CultureInfo.InvariantCulture);

    private protected override Task SetSchemaVersionAsync(int version) => RawScalarAsync(
        $"""
        CREATE TABLE IF NOT EXISTS schema_version (id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
        INSERT INTO schema_version (id, version) VALUES (1, {version}) ON CONFLICT (id) DO UPDATE SET version = excluded.version;
        """);

    private protected override async Task<IReadOnlyList<string>> TablesAsync() =>
        [.. (await ColumnsAsync()).Select(c => c.Table).Distinct().Order(StringComparer.Ordinal)];

    private protected override void ForgetPools() => NpgsqlConnection.ClearAllPools();

    /// <summary>The store's columns as information_schema has them (the schema version's own table and Quartz's left out).</summary>
    private async Task<List<(string Table, string Column, string Type, bool NotNull)>> ColumnsAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            SELECT table_name::text, column_name::text, data_type::text, is_nullable::text = 'NO'
            FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name <> 'schema_version' AND table_name NOT LIKE 'qrtz\_%'
            """,
            connection);
        await using var reader = await command.ExecuteReaderAsync();
        var columns = new List<(string, string, string, bool)>();
        while (await reader.ReadAsync())
        {
            columns.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetBoolean(3)));
        }

        return columns;
    }

    /// <summary>A column's type as both databases can say it: text, or a 64- or 32-bit integer.</summary>
    private static string Family(string type) => type.ToUpperInvariant() switch
    {
        "TEXT" => "text",
        "INTEGER" or "BIGINT" => "integer",
        var other => other,
    };

    [Fact]
    public async Task InitializeAsync_FreshDatabase_SameTablesAndColumnsAsSqlite()
    {
        await OpenStoreAsync();
        var directory = Directory.CreateTempSubdirectory("spotdevbox-store-");
        try
        {
            var sqlitePath = Path.Join(directory.FullName, "spotdevbox.db");
            using (var sqliteStore = new ControllerStore(new ControllerDatabase.SqliteFile(sqlitePath), NullLogger<ControllerStore>.Instance))
            {
                await sqliteStore.InitializeAsync(CancellationToken.None);
            }

            var sqlite = new List<string>();
            await using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = sqlitePath, Pooling = false }.ToString()))
            {
                await connection.OpenAsync();
                await using var command = connection.CreateCommand();
                // A primary key column is never null in PostgreSQL; SQLite's rowid alias (decisions.id) only does not say so.
                command.CommandText =
                    """
                    SELECT m.name, p.name, p.type, p."notnull" OR p.pk > 0
                    FROM sqlite_schema m JOIN pragma_table_info(m.name) p
                    WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
                    """;
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    sqlite.Add($"{reader.GetString(0)}.{reader.GetString(1)} {Family(reader.GetString(2))}{(reader.GetBoolean(3) ? " not null" : "")}");
                }
            }

            var postgres = (await ColumnsAsync()).Select(c => $"{c.Table}.{c.Column} {Family(c.Type)}{(c.NotNull ? " not null" : "")}");

            Assert.Equal(sqlite.Order(StringComparer.Ordinal), postgres.Order(StringComparer.Ordinal));
            Assert.Equal(82, sqlite.Count);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task InitializeAsync_FreshDatabase_QuartzJobStoreTablesFromQuartzsOwnScript()
    {
        await OpenStoreAsync();

        await using var connection = new NpgsqlConnection(ConnectionString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_name LIKE 'qrtz\\_%' ORDER BY 1",
            connection);
        var tables = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }

        // What the clustered store reads and writes: triggers, who fired what, the members' check-ins, its row locks.
        Assert.Superset(new HashSet<string>(["qrtz_job_details", "qrtz_triggers", "qrtz_simple_triggers", "qrtz_cron_triggers", "qrtz_fired_triggers", "qrtz_scheduler_state", "qrtz_locks"]), tables.ToHashSet());
        // Each table of the script, no other.
        var script = QuartzSchema.Postgres();
        Assert.Equal(
            System.Text.RegularExpressions.Regex.Matches(script, @"CREATE TABLE IF NOT EXISTS (qrtz_\w+)").Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal),
            tables);
    }

    [Fact]
    public async Task ClusterCheckinsAsync_QuartzStateRows_ReadAsMembersWithTheirInterval()
    {
        var store = await OpenStoreAsync();
        // As Quartz.NET writes them: the check-in in UTC ticks, the interval in milliseconds.
        await RawScalarAsync(
            "INSERT INTO qrtz_scheduler_state (sched_name, instance_name, last_checkin_time, checkin_interval) VALUES " +
            $"('spotdevbox-controller', 'ctl-a-0a0b0c', {Nine.UtcTicks}, 10000), ('spotdevbox-controller', 'ctl-b-0d0e0f', {Nine.AddSeconds(5).UtcTicks}, 5000)");

        var checkins = await store.ClusterCheckinsAsync(CancellationToken.None);

        Assert.Equal(
            [
                new ClusterCheckin("ctl-a-0a0b0c", Nine, TimeSpan.FromSeconds(10)),
                new ClusterCheckin("ctl-b-0d0e0f", Nine.AddSeconds(5), TimeSpan.FromSeconds(5)),
            ],
            checkins);
    }

    [Fact]
    public async Task InitializeAsync_FreshDatabase_IdsOfDecisionsAndCountsAreBigint()
    {
        await OpenStoreAsync();

        var types = (await ColumnsAsync()).Where(c => c.Type == "bigint").Select(c => $"{c.Table}.{c.Column}").Order(StringComparer.Ordinal);

        Assert.Equal(["decisions.id", "ledger.billed_seconds", "ledger.repository_bytes", "ledger.seconds"], types);
    }

    [Fact]
    public async Task InitializeAsync_NewerSchemaVersion_MessageNamesTheSettingNeverTheConnectionString()
    {
        await SetSchemaVersionAsync(9);
        var withPassword = new NpgsqlConnectionStringBuilder(ConnectionString()) { Password = "s3cret-pw" }.ConnectionString;
        using var store = new ControllerStore(new ControllerDatabase.Postgres(withPassword), NullLogger<ControllerStore>.Instance);

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => store.InitializeAsync(CancellationToken.None));

        Assert.Contains("the PostgreSQL database in Controller:Database", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-pw", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(DatabaseName, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InitializeAsync_NoSuchDatabase_OneLineNamingTheSettingNotTheConnectionString()
    {
        var missing = new NpgsqlConnectionStringBuilder(Server.ConnectionString("sdb_never_created")) { Password = "s3cret-pw" }.ConnectionString;
        using var store = new ControllerStore(new ControllerDatabase.Postgres(missing), NullLogger<ControllerStore>.Instance);

        var e = await Assert.ThrowsAsync<IOException>(() => store.InitializeAsync(CancellationToken.None));

        Assert.StartsWith("the PostgreSQL database in Controller:Database cannot be opened", e.Message, StringComparison.Ordinal);
        Assert.Contains("3D000", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-pw", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }
}

/// <summary>One database of the shared server for the tests of one class, dropped after the last.</summary>
public sealed class PostgresClassDatabase : IAsyncLifetime
{
    private PostgresServer? _server;
    private string? _name;

    public PostgresServer Server => _server ?? throw new InvalidOperationException("the PostgreSQL test server is not started");

    public string Name => _name ?? throw new InvalidOperationException("the class's PostgreSQL database is not created");

    public async Task InitializeAsync()
    {
        _server = await PostgresServer.SharedAsync();
        _name = await _server.CreateDatabaseAsync();
    }

    public async Task DisposeAsync()
    {
        if (_server is not null && _name is not null)
        {
            await _server.DropDatabaseAsync(_name);
        }
    }
}
