using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using SpotDevBox.Controller;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Controller;
using SpotDevBox.Core.Savings;

namespace SpotDevBox.Tests.Controller;

/// <summary>The store on an SQLite file in a fresh temporary directory: the shared tests, and what only SQLite has.</summary>
public sealed class SqliteControllerStoreTests : ControllerStoreTests
{
    /// <summary>
    /// The schema of version 5 exactly as the releases before PostgreSQL made it (their five migrations, verbatim):
    /// files made by them must open and work unchanged.
    /// </summary>
    private const string Version5Schema =
        """
        CREATE TABLE sessions (
        instance_id TEXT NOT NULL PRIMARY KEY,
        box TEXT NOT NULL,
        session_id TEXT,
        region TEXT NOT NULL,
        owner TEXT,
        instance_type TEXT NOT NULL,
        availability_zone TEXT NOT NULL,
        lifecycle TEXT NOT NULL CHECK (lifecycle IN ('spot', 'on-demand')),
        price_per_hour TEXT,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        ended_by TEXT,
        end_detail TEXT
        );
        CREATE INDEX sessions_box_started_at ON sessions (box, started_at);
        CREATE TABLE decisions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        box TEXT NOT NULL,
        action TEXT NOT NULL,
        reason TEXT NOT NULL,
        instance_id TEXT,
        session_id TEXT
        );
        CREATE INDEX decisions_box_at ON decisions (box, at);
        CREATE INDEX decisions_at ON decisions (at);
        CREATE TABLE box_state (
        box TEXT NOT NULL PRIMARY KEY,
        stop_requested_at TEXT,
        stop_instance_id TEXT,
        stop_reason TEXT,
        pending_session_id TEXT,
        next_launch_attempt_at TEXT,
        launch_failures INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE controller (
        id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
        last_run TEXT
        );
        CREATE TABLE ledger (
        instance_id TEXT NOT NULL PRIMARY KEY,
        box TEXT NOT NULL,
        owner TEXT NOT NULL,
        region TEXT NOT NULL,
        instance_type TEXT NOT NULL,
        availability_zone TEXT NOT NULL,
        lifecycle TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT NOT NULL,
        ended_by TEXT NOT NULL,
        interrupted_by_ec2 INTEGER NOT NULL,
        seconds INTEGER NOT NULL,
        billed_seconds INTEGER NOT NULL,
        instance_cost TEXT,
        on_demand_cost TEXT,
        ebs_cost TEXT,
        s3_cost TEXT,
        paid TEXT,
        volume_gib INTEGER NOT NULL,
        on_demand_per_hour TEXT,
        spot_segments TEXT NOT NULL,
        unknowns TEXT NOT NULL,
        computed_at TEXT NOT NULL,
        spot_missing TEXT,
        on_demand_missing TEXT,
        ebs_per_gb_month TEXT,
        ebs_missing TEXT,
        s3_per_gb_month TEXT,
        s3_missing TEXT,
        repository_bytes INTEGER
        );
        CREATE INDEX ledger_started_at ON ledger (started_at);
        CREATE INDEX ledger_box_started_at ON ledger (box, started_at);
        ALTER TABLE sessions ADD COLUMN latest_end TEXT;
        ALTER TABLE ledger ADD COLUMN latest_end TEXT;
        ALTER TABLE sessions ADD COLUMN last_seen_running TEXT;
        CREATE TABLE snapshot_floors (
        box TEXT NOT NULL PRIMARY KEY,
        snapshot_id TEXT NOT NULL,
        snapshot_time TEXT NOT NULL
        );
        """;

    private readonly string _directory = Path.Join(Path.GetTempPath(), "spotdevbox-store-" + Guid.NewGuid().ToString("N"));

    private string DatabasePath => Path.Join(_directory, "spotdevbox.db");

    private protected override ControllerDatabase Database => new ControllerDatabase.SqliteFile(DatabasePath);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private protected override async Task<object?> RawScalarAsync(string sql)
    {
        Directory.CreateDirectory(_directory);
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }

    private protected override async Task<long> SchemaVersionAsync() => (long)(await RawScalarAsync("PRAGMA user_version"))!;

    private protected override Task SetSchemaVersionAsync(int version) => RawScalarAsync($"PRAGMA user_version = {version}");

    private protected override async Task<IReadOnlyList<string>> TablesAsync()
    {
        var names = await RawScalarAsync("SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name)") as string;
        return names is null ? [] : names.Split(',');
    }

    private protected override void ForgetPools() => SqliteConnection.ClearAllPools();

    [Fact]
    public async Task InitializeAsync_NewFile_InWalMode()
    {
        await OpenStoreAsync();

        Assert.Equal("wal", await RawScalarAsync("PRAGMA journal_mode"));
    }

    [Fact]
    public async Task UpsertSessionAsync_StorageFormat_TextTheShellsDateFunctionsRead()
    {
        var store = await OpenStoreAsync();
        await store.UpsertSessionAsync(Session("i-01", new DateTimeOffset(2025, 6, 2, 11, 0, 0, Paris)) with { PricePerHour = 0.0416m }, CancellationToken.None);

        Assert.Equal("text", await RawScalarAsync("SELECT typeof(price_per_hour) FROM sessions"));
        Assert.Equal("text", await RawScalarAsync("SELECT typeof(started_at) FROM sessions"));
        Assert.Equal("2025-06-02 09:00:00", await RawScalarAsync("SELECT datetime(started_at) FROM sessions"));
    }

    [Fact]
    public async Task InitializeAsync_Version5FileOfEarlierReleases_UpgradedKeepingEverythingAndWorks()
    {
        await RawScalarAsync(Version5Schema + """
            INSERT INTO sessions (instance_id, box, session_id, region, owner, instance_type, availability_zone, lifecycle, price_per_hour, started_at, ended_at, ended_by)
            VALUES ('i-01', 'alice', 's-1', 'eu-west-1', 'alice@example.com', 'm7i.large', 'eu-west-1a', 'spot', '0.0416', '2025-06-02T09:00:00.0000000Z', '2025-06-02T11:00:00.0000000Z', 'idle');
            INSERT INTO decisions (at, box, action, reason) VALUES ('2025-06-02T09:00:00.0000000Z', 'alice', 'launch', 'schedule');
            INSERT INTO box_state (box, launch_failures) VALUES ('alice', 2);
            INSERT INTO controller (id, last_run) VALUES (1, '2025-06-02T09:05:00.0000000Z');
            INSERT INTO snapshot_floors (box, snapshot_id, snapshot_time) VALUES ('alice', 'aaaa1111', '2025-06-02T08:00:00.0000000Z');
            PRAGMA user_version = 5;
            """);
        var tablesBefore = await TablesAsync();

        var store = await OpenStoreAsync();

        // Version 6's tables for several controllers (no Quartz tables: those are PostgreSQL's only), the rest as it was.
        Assert.Equal(tablesBefore.Concat(["box_triggers", "controller_members", "decision_marks"]).Order(StringComparer.Ordinal), await TablesAsync());
        Assert.Equal(ControllerStore.SchemaVersion, await SchemaVersionAsync());
        Assert.Equal(Session("i-01", Nine, Nine.AddHours(2)) with { SessionId = "s-1", EndedBy = "idle" }, await store.GetSessionAsync("i-01", CancellationToken.None));
        Assert.Equal([new DecisionRow(Nine, "alice", "launch", "schedule")], await store.RecentDecisionsAsync("alice", 10, CancellationToken.None));
        Assert.Equal(new BoxStateRow("alice", LaunchFailures: 2), await store.GetBoxStateAsync("alice", CancellationToken.None));
        Assert.Equal(Nine.AddMinutes(5), await store.GetLastRunAsync(CancellationToken.None));
        Assert.Equal(new SnapshotFloor("aaaa1111", Nine.AddHours(-1)), await store.GetSnapshotFloorAsync("alice", CancellationToken.None));
        // Written by this release, a recomputed ledger entry replaces the row, and decisions go on numbering.
        var entry = Ledger("i-01", "alice", "alice@example.com", Nine, Nine.AddHours(2)) with { RepositoryBytes = 5_368_709_120 };
        await store.RecordAsync(entry, CancellationToken.None);
        await store.RecordAsync(entry with { InstanceCost = 0.5m }, CancellationToken.None);
        await store.RecordDecisionAsync(new DecisionRow(Nine.AddMinutes(1), "alice", "none", "running"), CancellationToken.None);
        Assert.Equal(0.5m, (await store.GetAsync("i-01", CancellationToken.None))!.InstanceCost);
        Assert.Equal(5_368_709_120L, (await store.GetAsync("i-01", CancellationToken.None))!.RepositoryBytes);
        Assert.Equal(2L, await RawScalarAsync("SELECT max(id) FROM decisions"));
    }

    [Fact]
    public async Task RecordDecisionAsync_AnotherConnectionHoldsTheWriteLock_WaitsThenSucceeds_ReadsDoNotWait()
    {
        var store = await OpenStoreAsync();
        await store.RecordDecisionAsync(new DecisionRow(Nine, "alice", "none", "before"), CancellationToken.None);
        // Another process's connection: its own handle, no pool shared with the store.
        await using var other = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());
        await other.OpenAsync();
        var lockHeld = other.BeginTransaction(deferred: false);
        await using (var insert = other.CreateCommand())
        {
            insert.Transaction = lockHeld;
            insert.CommandText = "INSERT INTO decisions (at, box, action, reason) VALUES ('2025-06-02T09:00:01.0000000Z', 'alice', 'none', 'other')";
            await insert.ExecuteNonQueryAsync();
        }

        var write = Task.Run(() => store.RecordDecisionAsync(new DecisionRow(Nine.AddSeconds(2), "alice", "none", "waited"), CancellationToken.None));
        var read = await Task.Run(() => store.RecentDecisionsAsync("alice", 10, CancellationToken.None)).WaitAsync(TimeSpan.FromSeconds(4));
        await Task.Delay(300);
        var writeDoneWhileLocked = write.IsCompleted;
        await lockHeld.CommitAsync();
        await lockHeld.DisposeAsync();
        await write.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(["before"], read.Select(d => d.Reason));
        Assert.False(writeDoneWhileLocked);
        Assert.Equal(["waited", "other", "before"], (await store.RecentDecisionsAsync("alice", 10, CancellationToken.None)).Select(d => d.Reason));
    }

    [Fact]
    public async Task OpenAsync_AnyConnection_HasBusyTimeoutAndFullSync()
    {
        var store = await OpenStoreAsync();

        await using var connection = await store.OpenAsync(CancellationToken.None);
        Assert.IsType<SqliteConnection>(connection);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA busy_timeout";
        var busyTimeout = await command.ExecuteScalarAsync();
        command.CommandText = "PRAGMA synchronous";
        var synchronous = await command.ExecuteScalarAsync();

        Assert.Equal(5000L, busyTimeout);
        Assert.Equal(2L, synchronous); // FULL
    }

    [Fact]
    public async Task InitializeAsync_DirectoryMissing_CreatesIt()
    {
        var path = Path.Join(_directory, "state", "spotdevbox", "controller.db");

        var store = await OpenStoreAsync(new ControllerDatabase.SqliteFile(path));
        await store.SetLastRunAsync(Nine, CancellationToken.None);

        Assert.True(File.Exists(path));
        Assert.Equal(Nine, await store.GetLastRunAsync(CancellationToken.None));
    }
}
