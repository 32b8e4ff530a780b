using System.Data;
using System.Data.Common;
using System.Globalization;
using Microsoft.Extensions.Logging;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Controller;
using SpotDevBox.Core.Savings;

namespace SpotDevBox.Controller;

/// <summary>
/// The controller's state, in one SQLite file (the embedded default) or one PostgreSQL database
/// (<see cref="ControllerDatabase"/>): the same tables, made by the same migrations, read and written by the same
/// SQL. What differs between the two is in <see cref="StoreDialect"/>.
/// </summary>
/// <remarks>
/// Times are stored as UTC text with seven fractional digits (<c>2025-06-02T09:00:00.0000000Z</c>): fixed
/// width, so text order is time order, exact to the tick, and readable in the sqlite3 shell, whose date
/// functions accept it. Only the digits vary from one time to another, at the same places, so PostgreSQL orders
/// them as times under any collation too. Prices are decimal text in the invariant culture, never REAL or
/// double precision: they are money. Counts that can pass 2^31 (seconds, bytes) are BIGINT; in SQLite that is the
/// same 64-bit INTEGER affinity as before.
/// </remarks>
internal sealed partial class ControllerStore : IControllerStore, ILedgerStore, IDisposable
{
    /// <summary>The schema this code writes: <c>PRAGMA user_version</c> (SQLite) or <c>schema_version</c> (PostgreSQL) once initialized.</summary>
    internal const int SchemaVersion = 7;

    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    /// <summary>
    /// Migrations[n] takes a database from schema version n to n + 1, on both databases; append, never change what
    /// one does. The text may hold <see cref="StoreDialect.IdentityToken"/>; a migration that must differ per
    /// database is a pair (<c>new(sqlite, postgres)</c>).
    /// </summary>
    private static readonly Migration[] Migrations =
    [
        new("""
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
            id {identity_key},
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
        """),
        new("""
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
            seconds BIGINT NOT NULL,
            billed_seconds BIGINT NOT NULL,
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
            repository_bytes BIGINT
        );
        CREATE INDEX ledger_started_at ON ledger (started_at);
        CREATE INDEX ledger_box_started_at ON ledger (box, started_at);
        """),
        new("""
        ALTER TABLE sessions ADD COLUMN latest_end TEXT;
        ALTER TABLE ledger ADD COLUMN latest_end TEXT;
        """),
        new("""
        ALTER TABLE sessions ADD COLUMN last_seen_running TEXT;
        """),
        new("""
        CREATE TABLE snapshot_floors (
            box TEXT NOT NULL PRIMARY KEY,
            snapshot_id TEXT NOT NULL,
            snapshot_time TEXT NOT NULL
        );
        """),
        // For several controllers on one database: the last decision stored per box (so that a decision repeated every
        // pass is stored once, whichever controller makes it), the API stop of a session, and the controllers themselves.
        new("""
        CREATE TABLE decision_marks (
            mark TEXT NOT NULL PRIMARY KEY,
            signature TEXT NOT NULL
        );
        ALTER TABLE sessions ADD COLUMN api_stopped_at TEXT;
        CREATE TABLE controller_members (
            member_id TEXT NOT NULL PRIMARY KEY,
            host TEXT NOT NULL,
            process_id INTEGER NOT NULL,
            version TEXT NOT NULL,
            started_at TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            last_pass_at TEXT,
            last_pass_seconds TEXT,
            last_pass_boxes INTEGER
        );
        CREATE TABLE box_triggers (
            box TEXT NOT NULL PRIMARY KEY,
            fire_at TEXT NOT NULL,
            change_at TEXT NOT NULL,
            set_by TEXT NOT NULL,
            set_at TEXT NOT NULL
        );
        """),
        // Quartz's clustered job store (qrtz_* tables), on PostgreSQL only: the text Quartz itself ships for its schema.
        new(Sqlite: null, Postgres: QuartzSchema.Postgres()),
    ];

    private const string LedgerColumns =
        "instance_id, box, owner, region, instance_type, availability_zone, lifecycle, started_at, ended_at, ended_by, interrupted_by_ec2, seconds, billed_seconds, " +
        "instance_cost, on_demand_cost, ebs_cost, s3_cost, paid, volume_gib, on_demand_per_hour, spot_segments, unknowns, computed_at, " +
        "spot_missing, on_demand_missing, ebs_per_gb_month, ebs_missing, s3_per_gb_month, s3_missing, repository_bytes, latest_end";

    private const string SessionColumns =
        "box, instance_id, session_id, region, owner, instance_type, availability_zone, lifecycle, price_per_hour, started_at, ended_at, ended_by, end_detail, latest_end, last_seen_running, " +
        "api_stopped_at";

    private const string DecisionColumns = "at, box, action, reason, instance_id, session_id";

    private readonly StoreDialect _dialect;
    private readonly ILogger<ControllerStore> _logger;

    public ControllerStore(ControllerDatabase database, ILogger<ControllerStore> logger)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(logger);
        Database = database;
        _logger = logger;
        _dialect = database switch
        {
            ControllerDatabase.SqliteFile file => new SqliteDialect(file.Path),
            ControllerDatabase.Postgres postgres => new PostgresDialect(postgres.ConnectionString),
            _ => throw new ArgumentOutOfRangeException(nameof(database), database.Describe, "Unknown kind of controller database."),
        };
    }

    /// <summary>An SQLite file (relative to the working directory), as the store has always been made.</summary>
    public ControllerStore(string path, ILogger<ControllerStore> logger)
        : this(new ControllerDatabase.SqliteFile(System.IO.Path.GetFullPath(path)), logger)
    {
    }

    /// <summary>Where the state is: an SQLite file or a PostgreSQL database.</summary>
    public ControllerDatabase Database { get; }

    /// <summary>Whether the database may hold a ledger already: an SQLite file that exists, or any PostgreSQL database (the server says when opening it).</summary>
    public bool MayExist => Database is not ControllerDatabase.SqliteFile file || File.Exists(file.Path);

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        try
        {
            await MigrateAsync(cancellationToken);
        }
        catch (Exception e) when (_dialect.Explain(e) is { } explained)
        {
            throw explained;
        }
    }

    private async Task MigrateAsync(CancellationToken cancellationToken)
    {
        (_dialect as SqliteDialect)?.CreateDirectory();
        await using var connection = await OpenAsync(cancellationToken);
        await _dialect.PrepareAsync(connection, _logger, cancellationToken);

        await using var transaction = await _dialect.BeginMigrationAsync(connection, cancellationToken);
        var found = await _dialect.ReadVersionAsync(connection, transaction, cancellationToken);
        if (found > SchemaVersion)
        {
            // InvalidDataException: a database this release cannot read; a verb reports it in one line, exit 1.
            throw new InvalidDataException(
                $"The controller database {_dialect.Describe} has schema version {found}, but this spotdevbox knows versions up to {SchemaVersion}: " +
                "a newer release wrote it. Upgrade spotdevbox, or point Controller:Database at another database.");
        }

        if (found == SchemaVersion)
        {
            return;
        }

        for (var version = found; version < SchemaVersion; version++)
        {
            if (_dialect.Expand(Migrations[version]) is not { } text)
            {
                continue;
            }

            await using var migrate = connection.CreateCommand();
            migrate.Transaction = transaction;
            migrate.CommandText = text;
            await migrate.ExecuteNonQueryAsync(cancellationToken);
        }

        await _dialect.WriteVersionAsync(connection, transaction, SchemaVersion, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        LogSchemaUpgraded(_logger, _dialect.Describe, found, SchemaVersion);
    }

    public async Task UpsertSessionAsync(SessionRow session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText =
            $"""
            INSERT INTO sessions ({SessionColumns})
            VALUES (@box, @instance_id, @session_id, @region, @owner, @instance_type, @availability_zone, @lifecycle, @price_per_hour, @started_at, @ended_at, @ended_by, @end_detail, @latest_end, @last_seen_running, @api_stopped_at)
            ON CONFLICT (instance_id) DO UPDATE SET
                box = excluded.box, session_id = excluded.session_id, region = excluded.region, owner = excluded.owner,
                instance_type = excluded.instance_type, availability_zone = excluded.availability_zone, lifecycle = excluded.lifecycle,
                price_per_hour = excluded.price_per_hour, started_at = excluded.started_at, ended_at = excluded.ended_at,
                ended_by = excluded.ended_by, end_detail = excluded.end_detail, latest_end = excluded.latest_end,
                last_seen_running = excluded.last_seen_running, api_stopped_at = COALESCE(excluded.api_stopped_at, sessions.api_stopped_at);
            """;
        Add(command, "@box", session.Box);
        Add(command, "@instance_id", session.InstanceId);
        Add(command, "@session_id", session.SessionId);
        Add(command, "@region", session.Region);
        Add(command, "@owner", session.Owner);
        Add(command, "@instance_type", session.InstanceType);
        Add(command, "@availability_zone", session.AvailabilityZone);
        Add(command, "@lifecycle", FormatLifecycle(session.Lifecycle));
        Add(command, "@price_per_hour", session.PricePerHour?.ToString(CultureInfo.InvariantCulture));
        Add(command, "@started_at", FormatTime(session.Start));
        Add(command, "@ended_at", FormatTime(session.End));
        Add(command, "@ended_by", session.EndedBy);
        Add(command, "@end_detail", session.EndDetail);
        Add(command, "@latest_end", FormatTime(session.LatestEnd));
        Add(command, "@last_seen_running", FormatTime(session.LastSeenRunning));
        Add(command, "@api_stopped_at", FormatTime(session.ApiStoppedAt));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task MarkSeenRunningAsync(IReadOnlyCollection<string> instanceIds, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instanceIds);
        if (instanceIds.Count == 0)
        {
            return;
        }

        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        // One parameter per instance (a box has one or two): the names are this method's own, never input.
        var names = instanceIds.Select((_, i) => "@id" + i.ToString(CultureInfo.InvariantCulture)).ToList();
        command.CommandText = $"UPDATE sessions SET last_seen_running = @at WHERE ended_at IS NULL AND instance_id IN ({string.Join(", ", names)});";
        Add(command, "@at", FormatTime(at));
        foreach (var (name, id) in names.Zip(instanceIds))
        {
            Add(command, name, id);
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<SessionRow?> GetSessionAsync(string instanceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instanceId);
        var rows = await QueryAsync(
            $"SELECT {SessionColumns} FROM sessions WHERE instance_id = @instance_id;",
            command => Add(command, "@instance_id", instanceId),
            ReadSession,
            cancellationToken);
        return rows.Count == 0 ? null : rows[0];
    }

    public Task<IReadOnlyList<SessionRow>> OpenSessionsAsync(CancellationToken cancellationToken) =>
        QueryAsync(
            $"SELECT {SessionColumns} FROM sessions WHERE ended_at IS NULL ORDER BY started_at, instance_id;",
            _ => { },
            ReadSession,
            cancellationToken);

    public async Task<SessionRow?> LastSessionAsync(string box, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(box);
        var rows = await QueryAsync(
            $"SELECT {SessionColumns} FROM sessions WHERE box = @box ORDER BY started_at DESC, instance_id DESC LIMIT 1;",
            command => Add(command, "@box", box),
            ReadSession,
            cancellationToken);
        return rows.Count == 0 ? null : rows[0];
    }

    public Task<IReadOnlyList<SessionRow>> SessionsAsync(DateTimeOffset from, DateTimeOffset to, string? box, CancellationToken cancellationToken)
    {
        // Overlap with [from, to): began before its end, and had not ended by its start (open ones have not).
        const string Overlap = "started_at < @to AND (ended_at IS NULL OR ended_at > @from)";
        return QueryAsync(
            box is null
                ? $"SELECT {SessionColumns} FROM sessions WHERE {Overlap} ORDER BY started_at, instance_id;"
                : $"SELECT {SessionColumns} FROM sessions WHERE box = @box AND {Overlap} ORDER BY started_at, instance_id;",
            command =>
            {
                Add(command, "@from", FormatTime(from));
                Add(command, "@to", FormatTime(to));
                if (box is not null)
                {
                    Add(command, "@box", box);
                }
            },
            ReadSession,
            cancellationToken);
    }

    public async Task RecordDecisionAsync(DecisionRow decision, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(decision);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"INSERT INTO decisions ({DecisionColumns}) VALUES (@at, @box, @action, @reason, @instance_id, @session_id);";
        Add(command, "@at", FormatTime(decision.At));
        Add(command, "@box", decision.Box);
        Add(command, "@action", decision.Action);
        Add(command, "@reason", decision.Reason);
        Add(command, "@instance_id", decision.InstanceId);
        Add(command, "@session_id", decision.SessionId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <remarks>Decisions at the same instant come latest recorded first.</remarks>
    public Task<IReadOnlyList<DecisionRow>> RecentDecisionsAsync(string? box, int limit, CancellationToken cancellationToken)
    {
        // SQLite reads a negative LIMIT as "no limit": refuse it rather than return the whole table.
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        return QueryAsync(
            box is null
                ? $"SELECT {DecisionColumns} FROM decisions ORDER BY at DESC, id DESC LIMIT @limit;"
                : $"SELECT {DecisionColumns} FROM decisions WHERE box = @box ORDER BY at DESC, id DESC LIMIT @limit;",
            command =>
            {
                Add(command, "@limit", limit);
                if (box is not null)
                {
                    Add(command, "@box", box);
                }
            },
            reader => new DecisionRow(
                ReadTime(reader, 0),
                reader.GetString(1),
                reader.GetString(2),
                reader.GetString(3),
                ReadString(reader, 4),
                ReadString(reader, 5)),
            cancellationToken);
    }

    public async Task<BoxStateRow?> GetBoxStateAsync(string box, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(box);
        var rows = await QueryAsync(
            """
            SELECT box, stop_requested_at, stop_instance_id, stop_reason, pending_session_id, next_launch_attempt_at, launch_failures
            FROM box_state WHERE box = @box;
            """,
            command => Add(command, "@box", box),
            reader => new BoxStateRow(
                reader.GetString(0),
                ReadNullableTime(reader, 1),
                ReadString(reader, 2),
                ReadString(reader, 3),
                ReadString(reader, 4),
                ReadNullableTime(reader, 5),
                reader.GetInt32(6)),
            cancellationToken);
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task SetBoxStateAsync(BoxStateRow state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText =
            """
            INSERT INTO box_state (box, stop_requested_at, stop_instance_id, stop_reason, pending_session_id, next_launch_attempt_at, launch_failures)
            VALUES (@box, @stop_requested_at, @stop_instance_id, @stop_reason, @pending_session_id, @next_launch_attempt_at, @launch_failures)
            ON CONFLICT (box) DO UPDATE SET
                stop_requested_at = excluded.stop_requested_at, stop_instance_id = excluded.stop_instance_id,
                stop_reason = excluded.stop_reason, pending_session_id = excluded.pending_session_id,
                next_launch_attempt_at = excluded.next_launch_attempt_at, launch_failures = excluded.launch_failures;
            """;
        Add(command, "@box", state.Box);
        Add(command, "@stop_requested_at", FormatTime(state.StopRequestedAt));
        Add(command, "@stop_instance_id", state.StopInstanceId);
        Add(command, "@stop_reason", state.StopReason);
        Add(command, "@pending_session_id", state.PendingSessionId);
        Add(command, "@next_launch_attempt_at", FormatTime(state.NextLaunchAttemptAt));
        Add(command, "@launch_failures", state.LaunchFailures);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<DateTimeOffset?> GetLastRunAsync(CancellationToken cancellationToken)
    {
        var rows = await QueryAsync("SELECT last_run FROM controller WHERE id = 1;", _ => { }, reader => ReadNullableTime(reader, 0), cancellationToken);
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task SetLastRunAsync(DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO controller (id, last_run) VALUES (1, @last_run) ON CONFLICT (id) DO UPDATE SET last_run = excluded.last_run;";
        Add(command, "@last_run", FormatTime(at));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<SnapshotFloor?> GetSnapshotFloorAsync(string box, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(box);
        var rows = await QueryAsync(
            "SELECT snapshot_id, snapshot_time FROM snapshot_floors WHERE box = @box;",
            command => Add(command, "@box", box),
            reader => new SnapshotFloor(reader.GetString(0), ReadTime(reader, 1)),
            cancellationToken);
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task<SnapshotFloor> RaiseSnapshotFloorAsync(string box, SnapshotFloor reported, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(box);
        ArgumentNullException.ThrowIfNull(reported);
        await using (var connection = await OpenAsync(cancellationToken))
        await using (var command = connection.CreateCommand())
        {
            // One statement: the WHERE keeps the floor from going down whoever writes at the same time (the fixed-width
            // UTC text compares as the times do).
            command.CommandText =
                """
                INSERT INTO snapshot_floors (box, snapshot_id, snapshot_time) VALUES (@box, @snapshot_id, @snapshot_time)
                ON CONFLICT (box) DO UPDATE SET snapshot_id = excluded.snapshot_id, snapshot_time = excluded.snapshot_time
                WHERE excluded.snapshot_time > snapshot_floors.snapshot_time;
                """;
            Add(command, "@box", box);
            Add(command, "@snapshot_id", reported.Id);
            Add(command, "@snapshot_time", FormatTime(reported.Time));
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        return await GetSnapshotFloorAsync(box, cancellationToken) ?? reported;
    }

    public async Task<bool> SwapMarkAsync(string mark, string signature, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mark);
        ArgumentNullException.ThrowIfNull(signature);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        // The WHERE makes an unchanged mark a statement that changes no row: both databases then count 0.
        command.CommandText =
            """
            INSERT INTO decision_marks (mark, signature) VALUES (@mark, @signature)
            ON CONFLICT (mark) DO UPDATE SET signature = excluded.signature WHERE decision_marks.signature <> excluded.signature;
            """;
        Add(command, "@mark", mark);
        Add(command, "@signature", signature);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task MarkApiStoppedAsync(string instanceId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instanceId);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE sessions SET api_stopped_at = @at WHERE instance_id = @instance_id AND api_stopped_at IS NULL;";
        Add(command, "@at", FormatTime(at));
        Add(command, "@instance_id", instanceId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task RecordMemberAsync(ControllerMember member, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(member);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        // A refresh without a pass keeps the last pass recorded.
        command.CommandText =
            """
            INSERT INTO controller_members (member_id, host, process_id, version, started_at, last_seen, last_pass_at, last_pass_seconds, last_pass_boxes)
            VALUES (@member_id, @host, @process_id, @version, @started_at, @last_seen, @last_pass_at, @last_pass_seconds, @last_pass_boxes)
            ON CONFLICT (member_id) DO UPDATE SET
                host = excluded.host, process_id = excluded.process_id, version = excluded.version, started_at = excluded.started_at,
                last_seen = excluded.last_seen,
                last_pass_at = COALESCE(excluded.last_pass_at, controller_members.last_pass_at),
                last_pass_seconds = COALESCE(excluded.last_pass_seconds, controller_members.last_pass_seconds),
                last_pass_boxes = COALESCE(excluded.last_pass_boxes, controller_members.last_pass_boxes);
            """;
        Add(command, "@member_id", member.MemberId);
        Add(command, "@host", member.Host);
        Add(command, "@process_id", member.ProcessId);
        Add(command, "@version", member.Version);
        Add(command, "@started_at", FormatTime(member.StartedAt));
        Add(command, "@last_seen", FormatTime(member.LastSeen));
        Add(command, "@last_pass_at", FormatTime(member.LastPassAt));
        Add(command, "@last_pass_seconds", member.LastPassSeconds?.ToString("0.###", CultureInfo.InvariantCulture));
        Add(command, "@last_pass_boxes", (long?)member.LastPassBoxes);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public Task<IReadOnlyList<ControllerMember>> MembersAsync(CancellationToken cancellationToken) =>
        QueryAsync(
            "SELECT member_id, host, process_id, version, started_at, last_seen, last_pass_at, last_pass_seconds, last_pass_boxes FROM controller_members ORDER BY last_seen DESC, member_id;",
            _ => { },
            reader => new ControllerMember(
                reader.GetString(0),
                reader.GetString(1),
                Convert.ToInt32(reader.GetValue(2), CultureInfo.InvariantCulture),
                reader.GetString(3),
                ReadTime(reader, 4),
                ReadTime(reader, 5),
                ReadNullableTime(reader, 6),
                reader.IsDBNull(7) ? null : double.Parse(reader.GetString(7), NumberStyles.Float, CultureInfo.InvariantCulture),
                reader.IsDBNull(8) ? null : Convert.ToInt32(reader.GetValue(8), CultureInfo.InvariantCulture)),
            cancellationToken);

    public async Task SetBoxTriggerAsync(BoxTrigger trigger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(trigger);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText =
            """
            INSERT INTO box_triggers (box, fire_at, change_at, set_by, set_at) VALUES (@box, @fire_at, @change_at, @set_by, @set_at)
            ON CONFLICT (box) DO UPDATE SET fire_at = excluded.fire_at, change_at = excluded.change_at, set_by = excluded.set_by, set_at = excluded.set_at;
            """;
        Add(command, "@box", trigger.Box);
        Add(command, "@fire_at", FormatTime(trigger.FireAt));
        Add(command, "@change_at", FormatTime(trigger.ChangeAt));
        Add(command, "@set_by", trigger.SetBy);
        Add(command, "@set_at", FormatTime(trigger.SetAt));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task RemoveBoxTriggerAsync(string box, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(box);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM box_triggers WHERE box = @box;";
        Add(command, "@box", box);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public Task<IReadOnlyList<BoxTrigger>> BoxTriggersAsync(CancellationToken cancellationToken) =>
        QueryAsync(
            "SELECT box, fire_at, change_at, set_by, set_at FROM box_triggers ORDER BY fire_at, box;",
            _ => { },
            reader => new BoxTrigger(reader.GetString(0), ReadTime(reader, 1), ReadTime(reader, 2), reader.GetString(3), ReadTime(reader, 4)),
            cancellationToken);

    /// <summary>
    /// The cluster's members as Quartz's job store sees them (<c>qrtz_scheduler_state</c>: each one's last check-in and its
    /// interval); empty on SQLite, where one controller runs with Quartz in memory.
    /// </summary>
    public async Task<IReadOnlyList<ClusterCheckin>> ClusterCheckinsAsync(CancellationToken cancellationToken)
    {
        if (Database is not ControllerDatabase.Postgres)
        {
            return [];
        }

        return await QueryAsync(
            $"SELECT instance_name, last_checkin_time, checkin_interval FROM {QuartzSchema.TablePrefix}scheduler_state ORDER BY instance_name;",
            _ => { },
            // Quartz.NET writes instants as UTC ticks and intervals as milliseconds.
            reader => new ClusterCheckin(
                reader.GetString(0),
                new DateTimeOffset(reader.GetInt64(1), TimeSpan.Zero),
                TimeSpan.FromMilliseconds(reader.GetInt64(2))),
            cancellationToken);
    }

    /// <summary>Closes the pooled connections (SQLite: the last one checkpoints the WAL into the file).</summary>
    public void Dispose() => _dialect.Dispose();

    /// <summary>An open connection with this store's per-connection settings; the caller disposes it.</summary>
    internal Task<DbConnection> OpenAsync(CancellationToken cancellationToken) => _dialect.OpenAsync(cancellationToken);

    public async Task RecordAsync(LedgerEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        var names = LedgerColumns.Split(", ");
        // Recomputed entries replace the row: every column but the key from the new values.
        command.CommandText =
            $"INSERT INTO ledger ({LedgerColumns}) VALUES ({string.Join(", ", names.Select(n => "@" + n))}) " +
            $"ON CONFLICT (instance_id) DO UPDATE SET {string.Join(", ", names.Skip(1).Select(n => n + " = excluded." + n))};";
        Add(command, "@instance_id", entry.InstanceId);
        Add(command, "@box", entry.Box);
        Add(command, "@owner", entry.Owner);
        Add(command, "@region", entry.Region);
        Add(command, "@instance_type", entry.InstanceType);
        Add(command, "@availability_zone", entry.AvailabilityZone);
        Add(command, "@lifecycle", entry.Lifecycle);
        Add(command, "@started_at", FormatTime(entry.Start));
        Add(command, "@ended_at", FormatTime(entry.End));
        Add(command, "@ended_by", entry.EndedBy);
        Add(command, "@interrupted_by_ec2", entry.InterruptedByEc2 ? 1 : 0);
        Add(command, "@seconds", entry.Seconds);
        Add(command, "@billed_seconds", entry.BilledSeconds);
        Add(command, "@instance_cost", Money(entry.InstanceCost));
        Add(command, "@on_demand_cost", Money(entry.OnDemandCost));
        Add(command, "@ebs_cost", Money(entry.EbsCost));
        Add(command, "@s3_cost", Money(entry.S3Cost));
        Add(command, "@paid", Money(entry.Paid));
        Add(command, "@volume_gib", entry.VolumeGiB);
        Add(command, "@on_demand_per_hour", Money(entry.OnDemandPerHour));
        Add(command, "@spot_segments", System.Text.Json.JsonSerializer.Serialize([.. entry.SpotSegments.Select(g => new StoredSegment(FormatTime(g.From), FormatTime(g.To), Money(g.UsdPerHour)!))], LedgerJson.Default.ListStoredSegment));
        Add(command, "@unknowns", System.Text.Json.JsonSerializer.Serialize([.. entry.Unknowns], LedgerJson.Default.ListString));
        Add(command, "@computed_at", FormatTime(entry.ComputedAt));
        Add(command, "@spot_missing", entry.SpotMissing);
        Add(command, "@on_demand_missing", entry.OnDemandMissing);
        Add(command, "@ebs_per_gb_month", Money(entry.EbsPerGbMonth));
        Add(command, "@ebs_missing", entry.EbsMissing);
        Add(command, "@s3_per_gb_month", Money(entry.S3PerGbMonth));
        Add(command, "@s3_missing", entry.S3Missing);
        Add(command, "@repository_bytes", entry.RepositoryBytes);
        Add(command, "@latest_end", FormatTime(entry.LatestEnd));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<LedgerEntry?> GetAsync(string instanceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instanceId);
        var rows = await QueryAsync($"SELECT {LedgerColumns} FROM ledger WHERE instance_id = @instance_id;", c => Add(c, "@instance_id", instanceId), ReadLedger, cancellationToken);
        return rows.Count == 0 ? null : rows[0];
    }

    public Task<IReadOnlyList<LedgerEntry>> QueryAsync(DateTimeOffset from, DateTimeOffset to, string? box, string? owner, CancellationToken cancellationToken) =>
        QueryAsync(
            $"""
            SELECT {LedgerColumns} FROM ledger
            WHERE started_at < @to AND ended_at > @from AND (@box IS NULL OR box = @box) AND (@owner IS NULL OR owner = @owner)
            ORDER BY started_at, instance_id;
            """,
            c =>
            {
                Add(c, "@from", FormatTime(from));
                Add(c, "@to", FormatTime(to));
                Add(c, "@box", box);
                Add(c, "@owner", owner);
            },
            ReadLedger,
            cancellationToken);

    private static LedgerEntry ReadLedger(DbDataReader r)
    {
        var segments = System.Text.Json.JsonSerializer.Deserialize(r.GetString(20), LedgerJson.Default.ListStoredSegment) ?? [];
        return new LedgerEntry(
            Box: r.GetString(1),
            Owner: r.GetString(2),
            InstanceId: r.GetString(0),
            Region: r.GetString(3),
            InstanceType: r.GetString(4),
            AvailabilityZone: r.GetString(5),
            Lifecycle: r.GetString(6),
            Start: ReadTime(r, 7),
            End: ReadTime(r, 8),
            EndedBy: r.GetString(9),
            InterruptedByEc2: r.GetInt32(10) != 0,
            Seconds: r.GetInt64(11),
            BilledSeconds: r.GetInt64(12),
            InstanceCost: ReadMoney(r, 13),
            OnDemandCost: ReadMoney(r, 14),
            EbsCost: ReadMoney(r, 15),
            S3Cost: ReadMoney(r, 16),
            Paid: ReadMoney(r, 17),
            VolumeGiB: r.GetInt32(18),
            OnDemandPerHour: ReadMoney(r, 19),
            SpotSegments: [.. segments.Select(g => new PriceSegment(ParseTime(g.From), ParseTime(g.To), ParseMoney(g.UsdPerHour)))],
            Unknowns: System.Text.Json.JsonSerializer.Deserialize(r.GetString(21), LedgerJson.Default.ListString) ?? [],
            ComputedAt: ReadTime(r, 22))
        {
            SpotMissing = ReadString(r, 23),
            OnDemandMissing = ReadString(r, 24),
            EbsPerGbMonth = ReadMoney(r, 25),
            EbsMissing = ReadString(r, 26),
            S3PerGbMonth = ReadMoney(r, 27),
            S3Missing = ReadString(r, 28),
            RepositoryBytes = r.IsDBNull(29) ? null : r.GetInt64(29),
            LatestEnd = ReadNullableTime(r, 30),
        };
    }

    private static string? Money(decimal? value) => value?.ToString(CultureInfo.InvariantCulture);

    private static decimal ParseMoney(string text) => decimal.Parse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);

    private static decimal? ReadMoney(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : ParseMoney(reader.GetString(ordinal));

    private static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.ParseExact(text, TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    private async Task<IReadOnlyList<T>> QueryAsync<T>(
        string sql,
        Action<DbCommand> bind,
        Func<DbDataReader, T> read,
        CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        bind(command);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    private static SessionRow ReadSession(DbDataReader reader) => new(
        Box: reader.GetString(0),
        InstanceId: reader.GetString(1),
        SessionId: ReadString(reader, 2),
        Region: reader.GetString(3),
        Owner: ReadString(reader, 4),
        InstanceType: reader.GetString(5),
        AvailabilityZone: reader.GetString(6),
        Lifecycle: ParseLifecycle(reader.GetString(7)),
        PricePerHour: reader.IsDBNull(8) ? null : decimal.Parse(reader.GetString(8), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture),
        Start: ReadTime(reader, 9),
        End: ReadNullableTime(reader, 10),
        EndedBy: ReadString(reader, 11),
        EndDetail: ReadString(reader, 12),
        LatestEnd: ReadNullableTime(reader, 13),
        LastSeenRunning: ReadNullableTime(reader, 14),
        ApiStoppedAt: ReadNullableTime(reader, 15));

    // Typed parameters: PostgreSQL must know a parameter's type even when its value is null (@box IS NULL OR box = @box).
    private static void Add(DbCommand command, string name, string? value) => Add(command, name, DbType.String, value);

    private static void Add(DbCommand command, string name, long? value) => Add(command, name, DbType.Int64, value);

    private static void Add(DbCommand command, string name, int value) => Add(command, name, DbType.Int32, value);

    private static void Add(DbCommand command, string name, DbType type, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.DbType = type;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }

    private static string? ReadString(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static string FormatTime(DateTimeOffset value) => value.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    private static string? FormatTime(DateTimeOffset? value) => value is { } time ? FormatTime(time) : null;

    private static DateTimeOffset ReadTime(DbDataReader reader, int ordinal) =>
        DateTimeOffset.ParseExact(reader.GetString(ordinal), TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    private static DateTimeOffset? ReadNullableTime(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : ReadTime(reader, ordinal);

    private static string FormatLifecycle(InstanceLifecycle lifecycle) => lifecycle switch
    {
        InstanceLifecycle.Spot => "spot",
        InstanceLifecycle.OnDemand => "on-demand",
        _ => throw new ArgumentOutOfRangeException(nameof(lifecycle), lifecycle, "Unknown instance lifecycle."),
    };

    private static InstanceLifecycle ParseLifecycle(string text) => text switch
    {
        "spot" => InstanceLifecycle.Spot,
        "on-demand" => InstanceLifecycle.OnDemand,
        _ => throw new InvalidOperationException($"Unknown lifecycle '{text}' in the controller database."),
    };

    [LoggerMessage(EventId = 6900, Level = LogLevel.Information, Message = "Controller database {Database}: schema version {From} upgraded to {To}")]
    private static partial void LogSchemaUpgraded(ILogger logger, string database, int from, int to);
}

/// <summary>A price segment as the ledger table keeps it: times in the table's format, the price as decimal text.</summary>
internal sealed record StoredSegment(string From, string To, string UsdPerHour);

[System.Text.Json.Serialization.JsonSerializable(typeof(List<StoredSegment>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(List<string>))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
internal sealed partial class LedgerJson : System.Text.Json.Serialization.JsonSerializerContext;
