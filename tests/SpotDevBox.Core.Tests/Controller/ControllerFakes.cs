using System.Collections.Concurrent;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Controller;
using SpotDevBox.Core.Savings;

namespace SpotDevBox.Core.Tests.Controller;

/// <summary>The store's contract in memory, for the reconcile logic; the SQLite store has its own tests against a real file.</summary>
internal sealed class InMemoryControllerStore : IControllerStore
{
    private readonly Lock _gate = new();
    private readonly List<DecisionRow> _decisions = [];
    private readonly Dictionary<string, BoxStateRow> _states = new(StringComparer.Ordinal);
    private DateTimeOffset? _lastRun;

    public ConcurrentDictionary<string, SessionRow> Sessions { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<DecisionRow> Decisions
    {
        get { lock (_gate) { return [.. _decisions]; } }
    }

    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task UpsertSessionAsync(SessionRow session, CancellationToken cancellationToken)
    {
        Sessions[session.InstanceId] = session;
        return Task.CompletedTask;
    }

    public Task<SessionRow?> GetSessionAsync(string instanceId, CancellationToken cancellationToken) =>
        Task.FromResult(Sessions.TryGetValue(instanceId, out var s) ? s : null);

    /// <summary>Calls of <see cref="MarkSeenRunningAsync"/>: the store's writes for "last seen running".</summary>
    public int SeenRunningWrites { get; private set; }

    public Task MarkSeenRunningAsync(IReadOnlyCollection<string> instanceIds, DateTimeOffset at, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            SeenRunningWrites++;
        }

        foreach (var id in instanceIds)
        {
            if (Sessions.TryGetValue(id, out var s) && s.IsOpen)
            {
                Sessions[id] = s with { LastSeenRunning = at };
            }
        }

        return Task.CompletedTask;
    }

    private int _openSessionQueries;

    /// <summary>How many times <see cref="OpenSessionsAsync"/> was asked.</summary>
    public int OpenSessionQueries => Volatile.Read(ref _openSessionQueries);

    public Task<IReadOnlyList<SessionRow>> OpenSessionsAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _openSessionQueries);
        return Task.FromResult<IReadOnlyList<SessionRow>>([.. Sessions.Values.Where(s => s.IsOpen)]);
    }

    public Task<SessionRow?> LastSessionAsync(string box, CancellationToken cancellationToken) =>
        Task.FromResult(Sessions.Values.Where(s => s.Box == box).MaxBy(s => s.Start));

    public Task<IReadOnlyList<SessionRow>> SessionsAsync(DateTimeOffset from, DateTimeOffset to, string? box, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<SessionRow>>([.. Sessions.Values.Where(s => (box is null || s.Box == box) && s.Start < to && (s.End is null || s.End > from)).OrderBy(s => s.Start)]);

    public Task RecordDecisionAsync(DecisionRow decision, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _decisions.Add(decision);
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<DecisionRow>> RecentDecisionsAsync(string? box, int limit, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<DecisionRow>>([.. _decisions.Where(d => box is null || d.Box == box).Reverse().Take(limit)]);
        }
    }

    public Task<BoxStateRow?> GetBoxStateAsync(string box, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_states.TryGetValue(box, out var s) ? s : null);
        }
    }

    public Task SetBoxStateAsync(BoxStateRow state, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _states[state.Box] = state;
        }

        return Task.CompletedTask;
    }

    public Task<DateTimeOffset?> GetLastRunAsync(CancellationToken cancellationToken) => Task.FromResult(_lastRun);

    public Task SetLastRunAsync(DateTimeOffset at, CancellationToken cancellationToken)
    {
        _lastRun = at;
        return Task.CompletedTask;
    }

    public ConcurrentDictionary<string, SnapshotFloor> Floors { get; } = new(StringComparer.Ordinal);

    public Task<SnapshotFloor?> GetSnapshotFloorAsync(string box, CancellationToken cancellationToken) =>
        Task.FromResult(Floors.TryGetValue(box, out var floor) ? floor : null);

    public Task<SnapshotFloor> RaiseSnapshotFloorAsync(string box, SnapshotFloor reported, CancellationToken cancellationToken) =>
        Task.FromResult(Floors.AddOrUpdate(box, reported, (_, current) => SnapshotFloor.Raise(current, reported)!));

    public ConcurrentDictionary<string, string> Marks { get; } = new(StringComparer.Ordinal);

    public Task<bool> SwapMarkAsync(string mark, string signature, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var changed = !Marks.TryGetValue(mark, out var was) || was != signature;
            Marks[mark] = signature;
            return Task.FromResult(changed);
        }
    }

    public Task MarkApiStoppedAsync(string instanceId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        // As the store: only a known session, and only the first stop.
        if (Sessions.TryGetValue(instanceId, out var session) && session.ApiStoppedAt is null)
        {
            Sessions[instanceId] = session with { ApiStoppedAt = at };
        }

        return Task.CompletedTask;
    }

    public ConcurrentDictionary<string, ControllerMember> Members { get; } = new(StringComparer.Ordinal);

    public Task RecordMemberAsync(ControllerMember member, CancellationToken cancellationToken)
    {
        Members.AddOrUpdate(
            member.MemberId,
            member,
            (_, was) => member with { LastPassAt = member.LastPassAt ?? was.LastPassAt, LastPassSeconds = member.LastPassSeconds ?? was.LastPassSeconds, LastPassBoxes = member.LastPassBoxes ?? was.LastPassBoxes });
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<ControllerMember>> MembersAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<ControllerMember>>([.. Members.Values.OrderByDescending(m => m.LastSeen).ThenBy(m => m.MemberId, StringComparer.Ordinal)]);

    public ConcurrentDictionary<string, BoxTrigger> Triggers { get; } = new(StringComparer.Ordinal);

    public Task SetBoxTriggerAsync(BoxTrigger trigger, CancellationToken cancellationToken)
    {
        Triggers[trigger.Box] = trigger;
        return Task.CompletedTask;
    }

    public Task RemoveBoxTriggerAsync(string box, CancellationToken cancellationToken)
    {
        Triggers.TryRemove(box, out _);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<BoxTrigger>> BoxTriggersAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<BoxTrigger>>([.. Triggers.Values.OrderBy(t => t.FireAt).ThenBy(t => t.Box, StringComparer.Ordinal)]);
}

/// <summary>A box prefix's documents in memory, keyed by storage prefix (status, control) or instance id (records).</summary>
internal sealed class FakeBoxDocuments : IBoxDocuments
{
    public ConcurrentDictionary<string, AgentStatus> Statuses { get; } = new(StringComparer.Ordinal);
    public ConcurrentDictionary<string, ControlDocument> Controls { get; } = new(StringComparer.Ordinal);
    public ConcurrentDictionary<string, InterruptionRecord> Interruptions { get; } = new(StringComparer.Ordinal);
    public ConcurrentDictionary<string, SessionRecord> Sessions { get; } = new(StringComparer.Ordinal);

    private int _inFlight;
    private int _maxInFlight;

    /// <summary>When set, each status and control read waits this long (as a GET would), so reads can overlap.</summary>
    public TimeSpan ReadLatency { get; set; }

    /// <summary>The most status and control reads that were in flight at once.</summary>
    public int MaxReadsInFlight => Volatile.Read(ref _maxInFlight);

    public async Task<AgentStatus?> ReadStatusAsync(string storage, CancellationToken cancellationToken)
    {
        await LatencyAsync(cancellationToken);
        return Statuses.TryGetValue(storage, out var s) ? s : null;
    }

    public async Task<ControlDocument?> ReadControlAsync(string storage, CancellationToken cancellationToken)
    {
        await LatencyAsync(cancellationToken);
        return Controls.TryGetValue(storage, out var c) ? c : null;
    }

    private async Task LatencyAsync(CancellationToken cancellationToken)
    {
        if (ReadLatency <= TimeSpan.Zero)
        {
            return;
        }

        var now = Interlocked.Increment(ref _inFlight);
        int max;
        while (now > (max = Volatile.Read(ref _maxInFlight)) && Interlocked.CompareExchange(ref _maxInFlight, now, max) != max)
        {
        }

        try
        {
            await Task.Delay(ReadLatency, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    public Task WriteControlAsync(string storage, ControlDocument control, CancellationToken cancellationToken)
    {
        Controls[storage] = control;
        return Task.CompletedTask;
    }

    /// <summary>The operator's budget overrides, keyed by "owner/box".</summary>
    public ConcurrentDictionary<string, BudgetOverride> BudgetOverrides { get; } = new(StringComparer.Ordinal);

    public Task<BudgetOverride?> ReadBudgetOverrideAsync(string storage, string owner, string box, CancellationToken cancellationToken) =>
        Task.FromResult(BudgetOverrides.TryGetValue($"{owner}/{box}", out var o) ? o : null);

    public Task WriteBudgetOverrideAsync(string storage, string owner, string box, BudgetOverride grant, CancellationToken cancellationToken)
    {
        BudgetOverrides[$"{owner}/{box}"] = grant;
        return Task.CompletedTask;
    }

    public string BudgetOverrideLocation(string storage, string owner, string box) => $"s3://boxes/_operator/budget-overrides/{owner}/{box}.json";

    public Task<InterruptionRecord?> FindInterruptionAsync(string storage, string instanceId, CancellationToken cancellationToken) =>
        Task.FromResult(Interruptions.TryGetValue(instanceId, out var r) ? r : null);

    public Task<SessionRecord?> FindSessionRecordAsync(string storage, string instanceId, CancellationToken cancellationToken) =>
        Task.FromResult(Sessions.TryGetValue(instanceId, out var r) ? r : null);
}

/// <summary>The ledger in memory, for the budget and reconcile logic.</summary>
internal sealed class InMemoryLedger : ILedgerStore
{
    public ConcurrentDictionary<string, LedgerEntry> Entries { get; } = new(StringComparer.Ordinal);

    public Task RecordAsync(LedgerEntry entry, CancellationToken cancellationToken)
    {
        Entries[entry.InstanceId] = entry;
        return Task.CompletedTask;
    }

    public Task<LedgerEntry?> GetAsync(string instanceId, CancellationToken cancellationToken) =>
        Task.FromResult(Entries.TryGetValue(instanceId, out var e) ? e : null);

    private int _queries;

    /// <summary>How many times <see cref="QueryAsync"/> was asked.</summary>
    public int Queries => Volatile.Read(ref _queries);

    public Task<IReadOnlyList<LedgerEntry>> QueryAsync(DateTimeOffset from, DateTimeOffset to, string? box, string? owner, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _queries);
        return Task.FromResult<IReadOnlyList<LedgerEntry>>([.. Entries.Values
            .Where(e => e.Start < to && e.End > from && (box is null || e.Box == box) && (owner is null || e.Owner == owner))
            .OrderBy(e => e.Start)]);
    }
}
