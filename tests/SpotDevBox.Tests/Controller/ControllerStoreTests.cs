using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SpotDevBox.Controller;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Controller;
using SpotDevBox.Core.Savings;

namespace SpotDevBox.Tests.Controller;

/// <summary>
/// The store's behaviour, the same on both of its databases: each test of this class runs once on a fresh SQLite
/// file (<see cref="SqliteControllerStoreTests"/>) and once on a fresh PostgreSQL database
/// (<see cref="PostgresControllerStoreTests"/>). What only one of them has is tested in that class.
/// </summary>
public abstract class ControllerStoreTests : IAsyncLifetime
{
    private protected static readonly DateTimeOffset Nine = new(2025, 6, 2, 9, 0, 0, TimeSpan.Zero);
    private protected static readonly TimeSpan Paris = TimeSpan.FromHours(2);

    private protected readonly List<ControllerStore> _stores = [];

    /// <summary>The fresh, empty database of this test.</summary>
    private protected abstract ControllerDatabase Database { get; }

    /// <summary>Reads one value with a connection of its own, as the database's shell would.</summary>
    private protected abstract Task<object?> RawScalarAsync(string sql);

    private protected abstract Task<long> SchemaVersionAsync();

    /// <summary>Sets the schema version as an older (or newer) release would have left it, creating the database if need be.</summary>
    private protected abstract Task SetSchemaVersionAsync(int version);

    /// <summary>The store's tables (not the schema version's own), by name.</summary>
    private protected abstract Task<IReadOnlyList<string>> TablesAsync();

    /// <summary>As a new process finds the database: no pooled connection that saw the old schema.</summary>
    private protected abstract void ForgetPools();

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }

        return Task.CompletedTask;
    }

    private protected async Task<ControllerStore> OpenStoreAsync(ControllerDatabase? database = null, ILogger<ControllerStore>? logger = null)
    {
        var store = new ControllerStore(database ?? Database, logger ?? NullLogger<ControllerStore>.Instance);
        _stores.Add(store);
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }

    private protected static SessionRow Session(string instanceId, DateTimeOffset start, DateTimeOffset? end = null, string box = "alice") =>
        new(box, instanceId, "s-" + instanceId, "eu-west-1", "alice@example.com", "m7i.large", "eu-west-1a", InstanceLifecycle.Spot, 0.0416m, start, end);

    [Fact]
    public async Task InitializeAsync_TwoStoresFirstOpenAtOnce_MigratedOnceBothWork()
    {
        var logs = new UpgradeCounter();
        using var start = new ManualResetEventSlim();
        var first = new ControllerStore(Database, logs);
        var second = new ControllerStore(Database, logs);
        _stores.Add(first);
        _stores.Add(second);

        var opening = new[] { first, second }.Select(store => Task.Run(async () =>
        {
            start.Wait();
            await store.InitializeAsync(CancellationToken.None);
        })).ToArray();
        start.Set();
        await Task.WhenAll(opening);

        Assert.Equal(1, logs.Upgrades);
        Assert.Equal(ControllerStore.SchemaVersion, await SchemaVersionAsync());
        await first.SetLastRunAsync(Nine, CancellationToken.None);
        Assert.Equal(Nine, await second.GetLastRunAsync(CancellationToken.None));
    }

    /// <summary>Counts the store's "schema upgraded" events (event id 6900), from any thread.</summary>
    private sealed class UpgradeCounter : ILogger<ControllerStore>
    {
        private int _upgrades;

        public int Upgrades => Volatile.Read(ref _upgrades);

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id == 6900)
            {
                Interlocked.Increment(ref _upgrades);
            }
        }
    }

    [Fact]
    public async Task UpsertSessionAsync_EveryFieldSet_RoundTripsAsUtc()
    {
        var store = await OpenStoreAsync();
        var start = new DateTimeOffset(2025, 6, 2, 11, 0, 0, Paris).AddTicks(1_234_567);
        var session = new SessionRow(
            "alice", "i-0123456789abcdef0", "s-20250602-1", "eu-west-1", "alice@example.com", "m7i.large", "eu-west-1b",
            InstanceLifecycle.Spot, 0.0416m, start, start.AddHours(3), "interruption", "Server.SpotInstanceTermination");

        await store.UpsertSessionAsync(session, CancellationToken.None);

        var read = await store.GetSessionAsync("i-0123456789abcdef0", CancellationToken.None);
        Assert.NotNull(read);
        Assert.Equal(session, read);
        Assert.Equal(0.0416m, read.PricePerHour);
        Assert.Equal(TimeSpan.Zero, read.Start.Offset);
        Assert.Equal(new DateTime(2025, 6, 2, 9, 0, 0, DateTimeKind.Utc).AddTicks(1_234_567), read.Start.UtcDateTime);
        Assert.Equal(TimeSpan.Zero, read.End!.Value.Offset);
        Assert.Equal(new DateTime(2025, 6, 2, 12, 0, 0, DateTimeKind.Utc).AddTicks(1_234_567), read.End.Value.UtcDateTime);
        Assert.False(read.IsOpen);
    }

    [Fact]
    public async Task UpsertSessionAsync_EndNobodyKnows_RoundTripsTheLatestEnd()
    {
        var store = await OpenStoreAsync();
        var session = Session("i-0gone", Nine) with { End = Nine.AddMinutes(45), EndedBy = "unknown", LatestEnd = Nine.AddHours(3) };

        await store.UpsertSessionAsync(session, CancellationToken.None);

        Assert.Equal(session, await store.GetSessionAsync("i-0gone", CancellationToken.None));
    }

    [Fact]
    public async Task UpsertSessionAsync_OptionalFieldsNull_ReadsBackNulls()
    {
        var store = await OpenStoreAsync();
        var session = new SessionRow("bob", "i-0b", null, "us-east-1", null, "t3.small", "us-east-1a", InstanceLifecycle.OnDemand, null, Nine);

        await store.UpsertSessionAsync(session, CancellationToken.None);

        var read = await store.GetSessionAsync("i-0b", CancellationToken.None);
        Assert.Equal(session, read);
        Assert.Null(read!.SessionId);
        Assert.Null(read.Owner);
        Assert.Null(read.PricePerHour);
        Assert.Null(read.End);
        Assert.Null(read.EndedBy);
        Assert.Null(read.EndDetail);
        Assert.Equal(InstanceLifecycle.OnDemand, read.Lifecycle);
    }

    [Fact]
    public async Task UpsertSessionAsync_StorageFormat_PriceTextAndTimesUtcText()
    {
        var store = await OpenStoreAsync();
        await store.UpsertSessionAsync(Session("i-01", new DateTimeOffset(2025, 6, 2, 11, 0, 0, Paris)) with { PricePerHour = 0.0416m }, CancellationToken.None);

        Assert.Equal("0.0416", await RawScalarAsync("SELECT price_per_hour FROM sessions"));
        Assert.Equal("2025-06-02T09:00:00.0000000Z", await RawScalarAsync("SELECT started_at FROM sessions"));
        Assert.Equal("spot", await RawScalarAsync("SELECT lifecycle FROM sessions"));
    }

    [Fact]
    public async Task UpsertSessionAsync_SameInstanceId_ReplacesTheRow()
    {
        var store = await OpenStoreAsync();
        await store.UpsertSessionAsync(Session("i-01", Nine), CancellationToken.None);
        var ended = Session("i-01", Nine, Nine.AddHours(2)) with { EndedBy = "idle", EndDetail = "idle for 30 min", PricePerHour = 0.05m };

        await store.UpsertSessionAsync(ended, CancellationToken.None);

        Assert.Equal(ended, await store.GetSessionAsync("i-01", CancellationToken.None));
        Assert.Empty(await store.OpenSessionsAsync(CancellationToken.None));
        Assert.Equal(1L, await RawScalarAsync("SELECT count(*) FROM sessions"));
    }

    [Fact]
    public async Task GetSessionAsync_UnknownInstance_Null()
    {
        var store = await OpenStoreAsync();
        await store.UpsertSessionAsync(Session("i-01", Nine), CancellationToken.None);

        Assert.Null(await store.GetSessionAsync("i-02", CancellationToken.None));
    }

    [Fact]
    public async Task OpenSessionsAsync_OpenAndEndedOfSeveralBoxes_OnlyOpenOnesOldestFirst()
    {
        var store = await OpenStoreAsync();
        await store.UpsertSessionAsync(Session("i-bob", Nine.AddHours(1), box: "bob"), CancellationToken.None);
        await store.UpsertSessionAsync(Session("i-ended", Nine, Nine.AddHours(1)), CancellationToken.None);
        await store.UpsertSessionAsync(Session("i-alice", Nine.AddMinutes(30)), CancellationToken.None);

        var open = await store.OpenSessionsAsync(CancellationToken.None);

        Assert.Equal(["i-alice", "i-bob"], open.Select(s => s.InstanceId));
    }

    [Fact]
    public async Task SessionsAsync_WindowEdges_TouchingSessionsExcludedOverlappingIncluded()
    {
        var store = await OpenStoreAsync();
        var from = Nine;
        var to = Nine.AddHours(8);
        // Ends exactly at the window's start, and starts exactly at its end: both only touch it.
        await store.UpsertSessionAsync(Session("i-ends-at-from", Nine.AddHours(-1), Nine), CancellationToken.None);
        await store.UpsertSessionAsync(Session("i-starts-at-to", to, to.AddHours(1)), CancellationToken.None);
        await store.UpsertSessionAsync(Session("i-open-from-to", to), CancellationToken.None);
        await store.UpsertSessionAsync(Session("i-before", Nine.AddHours(-3), Nine.AddHours(-2)), CancellationToken.None);
        // One tick over either edge overlaps.
        await store.UpsertSessionAsync(Session("i-ends-after-from", Nine.AddHours(-1), Nine.AddTicks(1)), CancellationToken.None);
        await store.UpsertSessionAsync(Session("i-starts-before-to", to.AddTicks(-1), to.AddHours(1)), CancellationToken.None);
        await store.UpsertSessionAsync(Session("i-inside", Nine.AddHours(2), Nine.AddHours(3)), CancellationToken.None);
        await store.UpsertSessionAsync(Session("i-spans", Nine.AddHours(-5), to.AddHours(5)), CancellationToken.None);
        await store.UpsertSessionAsync(Session("i-open-early", Nine.AddHours(-10)), CancellationToken.None);

        var sessions = await store.SessionsAsync(from, to, null, CancellationToken.None);

        Assert.Equal(["i-open-early", "i-spans", "i-ends-after-from", "i-inside", "i-starts-before-to"], sessions.Select(s => s.InstanceId));
    }

    [Fact]
    public async Task SessionsAsync_WindowGivenWithAnOffset_ComparesInstants()
    {
        var store = await OpenStoreAsync();
        await store.UpsertSessionAsync(Session("i-01", Nine, Nine.AddHours(1)), CancellationToken.None);

        // 11:00+02:00 is 09:00Z, the session's start: [10:00+02:00, 11:00+02:00) ends where it begins.
        var before = await store.SessionsAsync(new DateTimeOffset(2025, 6, 2, 10, 0, 0, Paris), new DateTimeOffset(2025, 6, 2, 11, 0, 0, Paris), null, CancellationToken.None);
        var during = await store.SessionsAsync(new DateTimeOffset(2025, 6, 2, 10, 0, 0, Paris), new DateTimeOffset(2025, 6, 2, 11, 0, 1, Paris), null, CancellationToken.None);

        Assert.Empty(before);
        Assert.Equal("i-01", Assert.Single(during).InstanceId);
    }

    [Fact]
    public async Task SessionsAsync_BoxGiven_OnlyThatBox()
    {
        var store = await OpenStoreAsync();
        await store.UpsertSessionAsync(Session("i-alice", Nine, Nine.AddHours(1)), CancellationToken.None);
        await store.UpsertSessionAsync(Session("i-bob", Nine, Nine.AddHours(1), box: "bob"), CancellationToken.None);

        var sessions = await store.SessionsAsync(Nine, Nine.AddDays(1), "bob", CancellationToken.None);

        Assert.Equal("i-bob", Assert.Single(sessions).InstanceId);
    }

    [Fact]
    public async Task LastSessionAsync_SeveralSessions_LatestStartOfThatBox()
    {
        var store = await OpenStoreAsync();
        await store.UpsertSessionAsync(Session("i-latest", Nine.AddDays(2), Nine.AddDays(2).AddHours(1)), CancellationToken.None);
        await store.UpsertSessionAsync(Session("i-open", Nine.AddDays(1)), CancellationToken.None);
        await store.UpsertSessionAsync(Session("i-first", Nine, Nine.AddHours(8)), CancellationToken.None);
        await store.UpsertSessionAsync(Session("i-bob", Nine.AddDays(3), box: "bob"), CancellationToken.None);

        var last = await store.LastSessionAsync("alice", CancellationToken.None);

        Assert.Equal("i-latest", last?.InstanceId);
    }

    [Fact]
    public async Task LastSessionAsync_BoxNeverHadOne_Null()
    {
        var store = await OpenStoreAsync();
        await store.UpsertSessionAsync(Session("i-bob", Nine, box: "bob"), CancellationToken.None);

        Assert.Null(await store.LastSessionAsync("alice", CancellationToken.None));
    }

    [Fact]
    public async Task RecordDecisionAsync_AllFields_RoundTripAsUtc()
    {
        var store = await OpenStoreAsync();
        var full = new DecisionRow(new DateTimeOffset(2025, 6, 2, 11, 0, 0, Paris), "alice", "launch", "schedule 09:00 weekdays", "i-01", "s-1");
        var bare = new DecisionRow(Nine.AddMinutes(1), "alice", "none", "running");

        await store.RecordDecisionAsync(full, CancellationToken.None);
        await store.RecordDecisionAsync(bare, CancellationToken.None);

        var decisions = await store.RecentDecisionsAsync("alice", 10, CancellationToken.None);
        Assert.Equal([bare, full], decisions);
        Assert.Equal(new DateTimeOffset(2025, 6, 2, 9, 0, 0, TimeSpan.Zero), decisions[1].At);
        Assert.Equal(TimeSpan.Zero, decisions[1].At.Offset);
        Assert.Null(decisions[0].InstanceId);
        Assert.Null(decisions[0].SessionId);
    }

    [Fact]
    public async Task RecentDecisionsAsync_RecordedOutOfOrder_NewestFirstUpToTheLimit()
    {
        var store = await OpenStoreAsync();
        foreach (var minutes in new[] { 3, 1, 5, 2, 4 })
        {
            await store.RecordDecisionAsync(new DecisionRow(Nine.AddMinutes(minutes), "alice", "none", $"minute {minutes}"), CancellationToken.None);
        }

        await store.RecordDecisionAsync(new DecisionRow(Nine.AddMinutes(9), "bob", "launch", "bob's"), CancellationToken.None);

        var alice = await store.RecentDecisionsAsync("alice", 3, CancellationToken.None);
        var all = await store.RecentDecisionsAsync(null, 2, CancellationToken.None);

        Assert.Equal(["minute 5", "minute 4", "minute 3"], alice.Select(d => d.Reason));
        Assert.Equal(["bob's", "minute 5"], all.Select(d => d.Reason));
    }

    [Fact]
    public async Task RecentDecisionsAsync_SameInstant_LatestRecordedFirst()
    {
        var store = await OpenStoreAsync();
        await store.RecordDecisionAsync(new DecisionRow(Nine, "alice", "request-stop", "first"), CancellationToken.None);
        await store.RecordDecisionAsync(new DecisionRow(Nine, "alice", "api-stop", "second"), CancellationToken.None);

        var decisions = await store.RecentDecisionsAsync("alice", 10, CancellationToken.None);

        Assert.Equal(["second", "first"], decisions.Select(d => d.Reason));
    }

    [Fact]
    public async Task RecentDecisionsAsync_LimitZero_Empty_NegativeRefused()
    {
        var store = await OpenStoreAsync();
        await store.RecordDecisionAsync(new DecisionRow(Nine, "alice", "none", "running"), CancellationToken.None);

        Assert.Empty(await store.RecentDecisionsAsync(null, 0, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.RecentDecisionsAsync(null, -1, CancellationToken.None));
    }

    [Fact]
    public async Task GetBoxStateAsync_NeverSet_Null()
    {
        var store = await OpenStoreAsync();

        Assert.Null(await store.GetBoxStateAsync("alice", CancellationToken.None));
    }

    [Fact]
    public async Task SetBoxStateAsync_AllFields_RoundTripAsUtc()
    {
        var store = await OpenStoreAsync();
        var state = new BoxStateRow("alice", new DateTimeOffset(2025, 6, 2, 21, 0, 0, Paris), "i-01", "schedule", "s-2", new DateTimeOffset(2025, 6, 2, 21, 5, 0, Paris), 3);

        await store.SetBoxStateAsync(state, CancellationToken.None);

        var read = await store.GetBoxStateAsync("alice", CancellationToken.None);
        Assert.Equal(state, read);
        Assert.Equal(TimeSpan.Zero, read!.StopRequestedAt!.Value.Offset);
        Assert.Equal(new DateTimeOffset(2025, 6, 2, 19, 5, 0, TimeSpan.Zero), read.NextLaunchAttemptAt);
        Assert.Equal(TimeSpan.Zero, read.NextLaunchAttemptAt!.Value.Offset);
    }

    [Fact]
    public async Task SetBoxStateAsync_SecondState_ReplacesNotMerges()
    {
        var store = await OpenStoreAsync();
        await store.SetBoxStateAsync(new BoxStateRow("alice", Nine, "i-01", "schedule", "s-2", Nine.AddMinutes(5), 3), CancellationToken.None);
        await store.SetBoxStateAsync(new BoxStateRow("bob", LaunchFailures: 1), CancellationToken.None);

        await store.SetBoxStateAsync(new BoxStateRow("alice", PendingSessionId: "s-3"), CancellationToken.None);

        Assert.Equal(new BoxStateRow("alice", PendingSessionId: "s-3"), await store.GetBoxStateAsync("alice", CancellationToken.None));
        Assert.Equal(new BoxStateRow("bob", LaunchFailures: 1), await store.GetBoxStateAsync("bob", CancellationToken.None));
    }

    [Fact]
    public async Task GetLastRunAsync_NeverSetThenSetTwice_NullThenTheLatestAsUtc()
    {
        var store = await OpenStoreAsync();
        var before = await store.GetLastRunAsync(CancellationToken.None);

        await store.SetLastRunAsync(Nine, CancellationToken.None);
        await store.SetLastRunAsync(new DateTimeOffset(2025, 6, 2, 11, 1, 0, Paris), CancellationToken.None);

        Assert.Null(before);
        var after = await store.GetLastRunAsync(CancellationToken.None);
        Assert.Equal(new DateTimeOffset(2025, 6, 2, 9, 1, 0, TimeSpan.Zero), after);
        Assert.Equal(TimeSpan.Zero, after!.Value.Offset);
    }

    [Fact]
    public async Task RecordDecisionAsync_200From8TasksAtOnce_AllStored()
    {
        var store = await OpenStoreAsync();
        using var start = new ManualResetEventSlim();

        var writers = Enumerable.Range(0, 8).Select(task => Task.Run(async () =>
        {
            start.Wait();
            for (var i = 0; i < 25; i++)
            {
                await store.RecordDecisionAsync(new DecisionRow(Nine.AddSeconds(i), "alice", "none", $"{task}-{i}"), CancellationToken.None);
            }
        })).ToArray();
        start.Set();
        await Task.WhenAll(writers);

        var decisions = await store.RecentDecisionsAsync(null, 1000, CancellationToken.None);
        var expected = Enumerable.Range(0, 8).SelectMany(task => Enumerable.Range(0, 25).Select(i => $"{task}-{i}")).Order(StringComparer.Ordinal);
        Assert.Equal(expected, decisions.Select(d => d.Reason).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task TwoStoresOnOneDatabase_WritingAtOnce_EachSeesAllRows()
    {
        var controller = await OpenStoreAsync();
        var cli = await OpenStoreAsync();

        var writes = Enumerable.Range(0, 40).Select(i => Task.Run(() => i % 2 == 0
            ? controller.UpsertSessionAsync(Session($"i-{i:00}", Nine.AddMinutes(i)), CancellationToken.None)
            : cli.UpsertSessionAsync(Session($"i-{i:00}", Nine.AddMinutes(i)), CancellationToken.None)));
        await Task.WhenAll(writes);

        var expected = Enumerable.Range(0, 40).Select(i => $"i-{i:00}");
        Assert.Equal(expected, (await controller.OpenSessionsAsync(CancellationToken.None)).Select(s => s.InstanceId));
        Assert.Equal(expected, (await cli.OpenSessionsAsync(CancellationToken.None)).Select(s => s.InstanceId));
    }

    [Fact]
    public async Task InitializeAsync_ExistingDatabase_KeepsItsData()
    {
        var first = await OpenStoreAsync();
        var session = Session("i-01", Nine, Nine.AddHours(1)) with { EndedBy = "manual" };
        var decision = new DecisionRow(Nine, "alice", "launch", "schedule", "i-01", "s-1");
        var state = new BoxStateRow("alice", Nine, "i-01", "override");
        await first.UpsertSessionAsync(session, CancellationToken.None);
        await first.RecordDecisionAsync(decision, CancellationToken.None);
        await first.SetBoxStateAsync(state, CancellationToken.None);
        await first.SetLastRunAsync(Nine.AddMinutes(1), CancellationToken.None);
        first.Dispose();

        var second = await OpenStoreAsync();

        Assert.Equal(session, await second.GetSessionAsync("i-01", CancellationToken.None));
        Assert.Equal([decision], await second.RecentDecisionsAsync(null, 10, CancellationToken.None));
        Assert.Equal(state, await second.GetBoxStateAsync("alice", CancellationToken.None));
        Assert.Equal(Nine.AddMinutes(1), await second.GetLastRunAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Ledger_Entry_RoundTripsExactlyIncludingSegmentsUnknownsAndNulls()
    {
        var store = await OpenStoreAsync();
        var entry = Ledger("i-0a", "alice", "alice", Nine, Nine.AddHours(2)) with
        {
            SpotSegments = [new PriceSegment(Nine, Nine.AddMinutes(40), 0.0416m), new PriceSegment(Nine.AddMinutes(40), Nine.AddHours(2), 0.0392m)],
            Unknowns = ["S3 price for eu-south-2 unknown"],
            S3Cost = null,
            Paid = null,
            S3Missing = "S3 price for eu-south-2 unknown",
            EbsPerGbMonth = 0.0952m,
            RepositoryBytes = 5_368_709_120,
            LatestEnd = Nine.AddHours(3),
        };

        await store.RecordAsync(entry, CancellationToken.None);
        var back = await store.GetAsync("i-0a", CancellationToken.None);

        Assert.NotNull(back);
        Assert.Equal(entry.SpotSegments, back.SpotSegments);
        Assert.Equal(entry.Unknowns, back.Unknowns);
        Assert.Equal(entry with { SpotSegments = back.SpotSegments, Unknowns = back.Unknowns }, back);
        Assert.Equal(0.081234567m, back.InstanceCost);
    }

    [Fact]
    public async Task Ledger_Query_OverlapBoxAndOwnerFiltersOldestFirst()
    {
        var store = await OpenStoreAsync();
        await store.RecordAsync(Ledger("i-2", "alice", "alice", Nine.AddDays(1), Nine.AddDays(1).AddHours(8)), CancellationToken.None);
        await store.RecordAsync(Ledger("i-1", "alice", "alice", Nine, Nine.AddHours(8)), CancellationToken.None);
        await store.RecordAsync(Ledger("i-3", "bob", "team-b", Nine, Nine.AddHours(1)), CancellationToken.None);
        // Recomputed: replaced, not added.
        await store.RecordAsync(Ledger("i-1", "alice", "alice", Nine, Nine.AddHours(8)) with { InstanceCost = 0.5m }, CancellationToken.None);

        var all = await store.QueryAsync(Nine, Nine.AddDays(2), null, null, CancellationToken.None);
        var alice = await store.QueryAsync(Nine, Nine.AddDays(2), "alice", null, CancellationToken.None);
        var teamB = await store.QueryAsync(Nine, Nine.AddDays(2), null, "team-b", CancellationToken.None);
        // [Nine+8h, Nine+1d): touches i-1's end and i-2's start, overlaps neither.
        var between = await store.QueryAsync(Nine.AddHours(8), Nine.AddDays(1), null, null, CancellationToken.None);

        Assert.Equal(["i-1", "i-3", "i-2"], all.Select(e => e.InstanceId));
        Assert.Equal(0.5m, all[0].InstanceCost);
        Assert.Equal(["i-1", "i-2"], alice.Select(e => e.InstanceId));
        Assert.Equal(["i-3"], teamB.Select(e => e.InstanceId));
        Assert.Empty(between);
    }

    private protected static LedgerEntry Ledger(string instanceId, string box, string owner, DateTimeOffset start, DateTimeOffset end) => new(
        box, owner, instanceId, "eu-central-1", "m7i.large", "eu-central-1a", "spot", start, end, "idle", false,
        (long)(end - start).TotalSeconds, (long)(end - start).TotalSeconds, 0.081234567m, 0.2016m, 0.0219m, 0.0004m, 0.103534567m, 30, 0.1008m, [], [], end.AddMinutes(1));

    [Fact]
    public async Task InitializeAsync_NewDatabase_CurrentSchemaVersion()
    {
        await OpenStoreAsync();

        Assert.Equal(ControllerStore.SchemaVersion, await SchemaVersionAsync());
    }

    [Fact]
    public async Task InitializeAsync_NewerSchemaVersion_RefusedNamingDatabaseAndVersions()
    {
        await SetSchemaVersionAsync(ControllerStore.SchemaVersion + 1);
        var store = new ControllerStore(Database, NullLogger<ControllerStore>.Instance);
        _stores.Add(store);

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => store.InitializeAsync(CancellationToken.None));

        Assert.Contains(Database.Describe, e.Message, StringComparison.Ordinal);
        Assert.Contains($"schema version {ControllerStore.SchemaVersion + 1}", e.Message, StringComparison.Ordinal);
        Assert.Contains($"up to {ControllerStore.SchemaVersion}", e.Message, StringComparison.Ordinal);
        Assert.Empty(await TablesAsync());
    }

    [Fact]
    public async Task InitializeAsync_Version2File_AddsLatestEndAndKeepsTheSessions()
    {
        var store = await OpenStoreAsync();
        var session = Session("i-01", Nine, Nine.AddHours(2)) with { EndedBy = "idle" };
        await store.UpsertSessionAsync(session, CancellationToken.None);
        // Back to what schema version 2 wrote.
        await UndoVersion6Async();
        await RawScalarAsync("DROP TABLE snapshot_floors");
        await RawScalarAsync("ALTER TABLE sessions DROP COLUMN last_seen_running");
        await RawScalarAsync("ALTER TABLE sessions DROP COLUMN latest_end");
        await RawScalarAsync("ALTER TABLE ledger DROP COLUMN latest_end");
        await SetSchemaVersionAsync(2);
        // As a new process finds the file: no pooled connection that saw the old schema.
        ForgetPools();

        var upgraded = await OpenStoreAsync();

        Assert.Equal(ControllerStore.SchemaVersion, await SchemaVersionAsync());
        Assert.Equal(session, await upgraded.GetSessionAsync("i-01", CancellationToken.None));
        await upgraded.UpsertSessionAsync(session with { LatestEnd = Nine.AddHours(3) }, CancellationToken.None);
        Assert.Equal((DateTimeOffset?)Nine.AddHours(3), (await upgraded.GetSessionAsync("i-01", CancellationToken.None))!.LatestEnd);
    }

    [Fact]
    public async Task InitializeAsync_Version3File_AddsLastSeenRunningAndKeepsEverything()
    {
        var store = await OpenStoreAsync();
        var ended = Session("i-01", Nine, Nine.AddHours(2)) with { EndedBy = "unknown", LatestEnd = Nine.AddHours(3) };
        var open = Session("i-02", Nine.AddHours(4));
        await store.UpsertSessionAsync(ended, CancellationToken.None);
        await store.UpsertSessionAsync(open, CancellationToken.None);
        await store.RecordDecisionAsync(new DecisionRow(Nine, "alice", "launch", "start", "i-02", "s-i-02"), CancellationToken.None);
        await store.SetBoxStateAsync(new BoxStateRow("alice", LaunchFailures: 2), CancellationToken.None);
        await store.SetLastRunAsync(Nine.AddHours(5), CancellationToken.None);
        await store.RecordAsync(Ledger("i-01", "alice", "alice@example.com", Nine, Nine.AddHours(2)), CancellationToken.None);
        // Back to what schema version 3 wrote.
        await UndoVersion6Async();
        await RawScalarAsync("DROP TABLE snapshot_floors");
        await RawScalarAsync("ALTER TABLE sessions DROP COLUMN last_seen_running");
        await SetSchemaVersionAsync(3);
        ForgetPools();

        var upgraded = await OpenStoreAsync();

        Assert.Equal(ControllerStore.SchemaVersion, await SchemaVersionAsync());
        Assert.Equal(ended, await upgraded.GetSessionAsync("i-01", CancellationToken.None));
        Assert.Equal(open, Assert.Single(await upgraded.OpenSessionsAsync(CancellationToken.None)));
        Assert.Equal(new DecisionRow(Nine, "alice", "launch", "start", "i-02", "s-i-02"), Assert.Single(await upgraded.RecentDecisionsAsync("alice", 10, CancellationToken.None)));
        Assert.Equal(2, (await upgraded.GetBoxStateAsync("alice", CancellationToken.None))!.LaunchFailures);
        Assert.Equal(Nine.AddHours(5), await upgraded.GetLastRunAsync(CancellationToken.None));
        Assert.Equal(1L, await RawScalarAsync("SELECT count(*) FROM ledger WHERE instance_id = 'i-01'"));
        await upgraded.MarkSeenRunningAsync(["i-02"], Nine.AddHours(6), CancellationToken.None);
        Assert.Equal((DateTimeOffset?)Nine.AddHours(6), (await upgraded.GetSessionAsync("i-02", CancellationToken.None))!.LastSeenRunning);
    }

    [Fact]
    public async Task InitializeAsync_Version4File_AddsSnapshotFloorsAndKeepsEverything()
    {
        var store = await OpenStoreAsync();
        await store.UpsertSessionAsync(Session("i-01", Nine), CancellationToken.None);
        await UndoVersion6Async();
        await RawScalarAsync("DROP TABLE snapshot_floors");
        await SetSchemaVersionAsync(4);
        ForgetPools();

        var upgraded = await OpenStoreAsync();

        Assert.Equal(ControllerStore.SchemaVersion, await SchemaVersionAsync());
        Assert.Equal(Session("i-01", Nine), await upgraded.GetSessionAsync("i-01", CancellationToken.None));
        Assert.Null(await upgraded.GetSnapshotFloorAsync("alice", CancellationToken.None));
        await upgraded.RaiseSnapshotFloorAsync("alice", new SnapshotFloor("aaaa1111", Nine), CancellationToken.None);
        Assert.Equal(new SnapshotFloor("aaaa1111", Nine), await upgraded.GetSnapshotFloorAsync("alice", CancellationToken.None));
    }

    [Fact]
    public async Task RaiseSnapshotFloorAsync_NewerThenOlderReports_RaisedNeverLoweredAndKeptPerBox()
    {
        var store = await OpenStoreAsync();
        var first = new SnapshotFloor("1111aaaa", Nine);
        var newer = new SnapshotFloor("2222bbbb", Nine.AddHours(2));
        var older = new SnapshotFloor("0000cccc", Nine.AddHours(1));

        Assert.Equal(first, await store.RaiseSnapshotFloorAsync("alice", first, CancellationToken.None));
        Assert.Equal(newer, await store.RaiseSnapshotFloorAsync("alice", newer, CancellationToken.None));
        Assert.Equal(newer, await store.RaiseSnapshotFloorAsync("alice", older, CancellationToken.None));
        Assert.Equal(newer, await store.RaiseSnapshotFloorAsync("alice", newer with { Id = "3333dddd" }, CancellationToken.None));
        Assert.Equal(older, await store.RaiseSnapshotFloorAsync("bob", older, CancellationToken.None));

        ForgetPools();
        var reopened = await OpenStoreAsync();
        Assert.Equal(newer, await reopened.GetSnapshotFloorAsync("alice", CancellationToken.None));
        Assert.Equal(older, await reopened.GetSnapshotFloorAsync("bob", CancellationToken.None));
        Assert.Null(await reopened.GetSnapshotFloorAsync("carol", CancellationToken.None));
    }

    [Fact]
    public async Task MarkSeenRunningAsync_OpenAndEndedSessions_SetsTheOpenOnesOnly()
    {
        var store = await OpenStoreAsync();
        await store.UpsertSessionAsync(Session("i-01", Nine), CancellationToken.None);
        await store.UpsertSessionAsync(Session("i-02", Nine), CancellationToken.None);
        await store.UpsertSessionAsync(Session("i-03", Nine, Nine.AddHours(1)) with { LastSeenRunning = Nine.AddMinutes(50) }, CancellationToken.None);

        await store.MarkSeenRunningAsync(["i-01", "i-02", "i-03", "i-unknown"], Nine.AddHours(2), CancellationToken.None);

        Assert.Equal((DateTimeOffset?)Nine.AddHours(2), (await store.GetSessionAsync("i-01", CancellationToken.None))!.LastSeenRunning);
        Assert.Equal((DateTimeOffset?)Nine.AddHours(2), (await store.GetSessionAsync("i-02", CancellationToken.None))!.LastSeenRunning);
        Assert.Equal((DateTimeOffset?)Nine.AddMinutes(50), (await store.GetSessionAsync("i-03", CancellationToken.None))!.LastSeenRunning);
        Assert.Null(await store.GetSessionAsync("i-unknown", CancellationToken.None));
    }

    /// <summary>Back to what schema version 5 wrote (Quartz's tables, version 7, are made with IF NOT EXISTS and may stay).</summary>
    private protected async Task UndoVersion6Async()
    {
        await RawScalarAsync("DROP TABLE decision_marks");
        await RawScalarAsync("DROP TABLE controller_members");
        await RawScalarAsync("DROP TABLE box_triggers");
        await RawScalarAsync("ALTER TABLE sessions DROP COLUMN api_stopped_at");
    }

    [Fact]
    public async Task InitializeAsync_Version5Database_AddsTheClusterTablesAndKeepsEverything()
    {
        var store = await OpenStoreAsync();
        await store.UpsertSessionAsync(Session("i-01", Nine), CancellationToken.None);
        await store.SetBoxStateAsync(new BoxStateRow("alice", PendingSessionId: "s-1"), CancellationToken.None);
        await UndoVersion6Async();
        await SetSchemaVersionAsync(5);
        ForgetPools();

        var upgraded = await OpenStoreAsync();

        Assert.Equal(ControllerStore.SchemaVersion, await SchemaVersionAsync());
        Assert.Equal(Session("i-01", Nine), await upgraded.GetSessionAsync("i-01", CancellationToken.None));
        Assert.Equal("s-1", (await upgraded.GetBoxStateAsync("alice", CancellationToken.None))!.PendingSessionId);
        Assert.True(await upgraded.SwapMarkAsync("decision:alice", "none|up", CancellationToken.None));
        await upgraded.MarkApiStoppedAsync("i-01", Nine.AddHours(1), CancellationToken.None);
        Assert.Equal((DateTimeOffset?)Nine.AddHours(1), (await upgraded.GetSessionAsync("i-01", CancellationToken.None))!.ApiStoppedAt);
    }

    [Fact]
    public async Task SwapMarkAsync_SameSignatureAgain_FalseUntilItChanges()
    {
        var store = await OpenStoreAsync();

        Assert.True(await store.SwapMarkAsync("decision:alice", "none|up", CancellationToken.None));
        Assert.False(await store.SwapMarkAsync("decision:alice", "none|up", CancellationToken.None));
        Assert.True(await store.SwapMarkAsync("decision:bob", "none|up", CancellationToken.None));
        Assert.True(await store.SwapMarkAsync("decision:alice", "launch|window opened", CancellationToken.None));
        Assert.True(await store.SwapMarkAsync("decision:alice", "none|up", CancellationToken.None));

        // Another process (a second controller) finds the same marks.
        ForgetPools();
        var other = await OpenStoreAsync();
        Assert.False(await other.SwapMarkAsync("decision:alice", "none|up", CancellationToken.None));
    }

    [Fact]
    public async Task SwapMarkAsync_ManyAtOnceWithOneSignature_ExactlyOneSeesAChange()
    {
        var first = await OpenStoreAsync();
        var second = await OpenStoreAsync();

        var swaps = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(() => (i % 2 == 0 ? first : second).SwapMarkAsync("decision:alice", "launch|window opened", CancellationToken.None))));

        Assert.Equal(1, swaps.Count(changed => changed));
    }

    [Fact]
    public async Task MarkApiStoppedAsync_KnownSession_KeptThroughLaterUpsertsAndOnlyTheFirstStop()
    {
        var store = await OpenStoreAsync();
        await store.UpsertSessionAsync(Session("i-01", Nine), CancellationToken.None);

        await store.MarkApiStoppedAsync("i-01", Nine.AddHours(1), CancellationToken.None);
        await store.MarkApiStoppedAsync("i-01", Nine.AddHours(2), CancellationToken.None);
        await store.MarkApiStoppedAsync("i-unknown", Nine.AddHours(2), CancellationToken.None);
        // A pass that read the session before the stop writes it back without the stop: the stop stays.
        await store.UpsertSessionAsync(Session("i-01", Nine, Nine.AddHours(1)) with { EndedBy = "api-stop" }, CancellationToken.None);

        var row = await store.GetSessionAsync("i-01", CancellationToken.None);
        Assert.Equal((DateTimeOffset?)Nine.AddHours(1), row!.ApiStoppedAt);
        Assert.Equal((DateTimeOffset?)Nine.AddHours(1), row.End);
        Assert.Null(await store.GetSessionAsync("i-unknown", CancellationToken.None));
    }

    [Fact]
    public async Task RecordMemberAsync_StartCheckinsAndPasses_LastPassKeptAcrossCheckinsNewestFirst()
    {
        var store = await OpenStoreAsync();
        var a = new ControllerMember("ctl-a-0a0b0c", "ctl-a", 101, "0.13.0", Nine, Nine);
        var b = new ControllerMember("ctl-b-0d0e0f", "ctl-b", 202, "0.13.0", Nine.AddMinutes(1), Nine.AddMinutes(1));

        await store.RecordMemberAsync(a, CancellationToken.None);
        await store.RecordMemberAsync(b, CancellationToken.None);
        await store.RecordMemberAsync(a with { LastSeen = Nine.AddMinutes(2), LastPassAt = Nine.AddMinutes(2), LastPassSeconds = 1.25, LastPassBoxes = 3 }, CancellationToken.None);
        await store.RecordMemberAsync(a with { LastSeen = Nine.AddMinutes(3) }, CancellationToken.None);

        var members = await store.MembersAsync(CancellationToken.None);
        Assert.Equal(
            [a with { LastSeen = Nine.AddMinutes(3), LastPassAt = Nine.AddMinutes(2), LastPassSeconds = 1.25, LastPassBoxes = 3 }, b],
            members);
    }

    [Fact]
    public async Task SetBoxTriggerAsync_SetMovedRemoved_OneRowPerBoxSoonestFirst()
    {
        var store = await OpenStoreAsync();
        await store.SetBoxTriggerAsync(new BoxTrigger("alice", Nine.AddHours(9), Nine.AddHours(9).AddSeconds(-1), "ctl-a", Nine), CancellationToken.None);
        await store.SetBoxTriggerAsync(new BoxTrigger("bob", Nine.AddHours(2), Nine.AddHours(2).AddSeconds(-1), "ctl-a", Nine), CancellationToken.None);
        await store.SetBoxTriggerAsync(new BoxTrigger("carol", Nine.AddHours(3), Nine.AddHours(3).AddSeconds(-1), "ctl-b", Nine), CancellationToken.None);

        await store.SetBoxTriggerAsync(new BoxTrigger("alice", Nine.AddHours(1), Nine.AddHours(1).AddSeconds(-1), "ctl-b", Nine.AddMinutes(5)), CancellationToken.None);
        await store.RemoveBoxTriggerAsync("carol", CancellationToken.None);
        await store.RemoveBoxTriggerAsync("nobody", CancellationToken.None);

        Assert.Equal(
            [
                new BoxTrigger("alice", Nine.AddHours(1), Nine.AddHours(1).AddSeconds(-1), "ctl-b", Nine.AddMinutes(5)),
                new BoxTrigger("bob", Nine.AddHours(2), Nine.AddHours(2).AddSeconds(-1), "ctl-a", Nine),
            ],
            await store.BoxTriggersAsync(CancellationToken.None));
    }

    [Fact]
    public async Task InitializeAsync_Twice_KeepsVersionAndData()
    {
        var store = await OpenStoreAsync();
        await store.SetLastRunAsync(Nine, CancellationToken.None);

        await store.InitializeAsync(CancellationToken.None);

        Assert.Equal(ControllerStore.SchemaVersion, await SchemaVersionAsync());
        Assert.Equal(Nine, await store.GetLastRunAsync(CancellationToken.None));
    }

}
