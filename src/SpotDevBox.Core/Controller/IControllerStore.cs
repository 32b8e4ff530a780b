using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Compute;

namespace SpotDevBox.Core.Controller;

/// <summary>
/// One life of one instance of a box, as the controller saw it: opened when reconcile first sees the
/// instance, closed when it sees it end (or finds it gone). Keyed by <see cref="InstanceId"/>.
/// </summary>
/// <param name="SessionId">The session tag the launch gave it (null for an instance started by hand).</param>
/// <param name="PricePerHour">The spot price in effect at the start (USD), or null for on-demand or unknown.</param>
/// <param name="End">Null while the session is open.</param>
/// <param name="EndedBy">How it ended: "interruption", "idle", "schedule", "manual", "instance-shutdown", "api-stop", "unknown", ...</param>
/// <param name="EndDetail">EC2's state reason, or the agent's session record's detail.</param>
/// <param name="LatestEnd">
/// Null when <paramref name="End"/> is when the session ended (EC2's state transition time, or the agent's
/// record). Otherwise nobody knows any more when it ended: <paramref name="End"/> is the last instant it was
/// known to run, and this the instant it was found ended; the time between is not costed and the ledger
/// names it as unknown.
/// </param>
/// <param name="LastSeenRunning">
/// The latest reconcile pass that saw the instance running: kept in the store so that after a restart of the
/// controller an instance that vanished meanwhile is still costed up to when it was last seen, not its start.
/// </param>
/// <param name="ApiStoppedAt">When a controller terminated the instance through the API: its session ends as an API stop, whichever controller sees it end.</param>
public sealed record SessionRow(
    string Box,
    string InstanceId,
    string? SessionId,
    string Region,
    string? Owner,
    string InstanceType,
    string AvailabilityZone,
    InstanceLifecycle Lifecycle,
    decimal? PricePerHour,
    DateTimeOffset Start,
    DateTimeOffset? End = null,
    string? EndedBy = null,
    string? EndDetail = null,
    DateTimeOffset? LatestEnd = null,
    DateTimeOffset? LastSeenRunning = null,
    DateTimeOffset? ApiStoppedAt = null)
{
    public bool IsOpen => End is null;
}

/// <summary>One decision of the controller about a box, with its reason: what ops people read afterwards.</summary>
/// <param name="Action">A short verb: "launch", "relaunch", "request-stop", "api-stop", "none", "launch-failed", ...</param>
public sealed record DecisionRow(DateTimeOffset At, string Box, string Action, string Reason, string? InstanceId = null, string? SessionId = null);

/// <summary>
/// What the controller remembers about a box between reconcile passes (and restarts): the stop it asked
/// for, and the launch it is backing off from. Absent fields are null.
/// </summary>
/// <param name="StopRequestedAt">When the controller asked the agent to stop (control.json); null: no stop pending.</param>
/// <param name="StopInstanceId">The instance that stop was meant for.</param>
/// <param name="StopReason">"schedule", "override", ...</param>
/// <param name="PendingSessionId">A launch whose outcome was unknown: the next attempt reuses this session id (and so its client tokens).</param>
/// <param name="NextLaunchAttemptAt">After a failed launch, none before this.</param>
/// <param name="LaunchFailures">Failed launches in a row (backoff grows with it); 0 after a launch.</param>
public sealed record BoxStateRow(
    string Box,
    DateTimeOffset? StopRequestedAt = null,
    string? StopInstanceId = null,
    string? StopReason = null,
    string? PendingSessionId = null,
    DateTimeOffset? NextLaunchAttemptAt = null,
    int LaunchFailures = 0);

/// <summary>
/// The controller's state: sessions, decisions, per-box state and when it last ran. SQLite by default
/// (a file next to the configuration); kept this small so that another store (PostgreSQL) can implement it.
/// Every method is safe to call concurrently; writes are durable when the task completes.
/// </summary>
public interface IControllerStore
{
    /// <summary>Creates the schema (or upgrades it) when needed; call once before anything else.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Inserts the session, or replaces the one with the same <see cref="SessionRow.InstanceId"/>.</summary>
    Task UpsertSessionAsync(SessionRow session, CancellationToken cancellationToken);

    Task<SessionRow?> GetSessionAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>
    /// Sets <see cref="SessionRow.LastSeenRunning"/> of the open sessions of these instances to <paramref name="at"/>:
    /// one write for a whole pass of a box, whatever its number of instances.
    /// </summary>
    Task MarkSeenRunningAsync(IReadOnlyCollection<string> instanceIds, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Sessions not ended yet, of every box.</summary>
    Task<IReadOnlyList<SessionRow>> OpenSessionsAsync(CancellationToken cancellationToken);

    /// <summary>The box's session with the latest start, open or ended; null when it never had one.</summary>
    Task<SessionRow?> LastSessionAsync(string box, CancellationToken cancellationToken);

    /// <summary>Sessions that overlap [from, to), optionally of one box, oldest start first.</summary>
    Task<IReadOnlyList<SessionRow>> SessionsAsync(DateTimeOffset from, DateTimeOffset to, string? box, CancellationToken cancellationToken);

    Task RecordDecisionAsync(DecisionRow decision, CancellationToken cancellationToken);

    /// <summary>The newest decisions first, at most <paramref name="limit"/>, optionally of one box.</summary>
    Task<IReadOnlyList<DecisionRow>> RecentDecisionsAsync(string? box, int limit, CancellationToken cancellationToken);

    Task<BoxStateRow?> GetBoxStateAsync(string box, CancellationToken cancellationToken);

    /// <summary>Replaces the box's state.</summary>
    Task SetBoxStateAsync(BoxStateRow state, CancellationToken cancellationToken);

    /// <summary>When the controller last completed a reconcile pass: null when it never did (the missed-start rules use it).</summary>
    Task<DateTimeOffset?> GetLastRunAsync(CancellationToken cancellationToken);

    Task SetLastRunAsync(DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>The newest snapshot the box was seen to report (the rollback floor its launches carry); null: none yet.</summary>
    Task<SnapshotFloor?> GetSnapshotFloorAsync(string box, CancellationToken cancellationToken);

    /// <summary>
    /// Raises the box's floor to <paramref name="reported"/> when that is newer (<see cref="SnapshotFloor.Raise"/>), in
    /// one statement so that two writers never lower it; returns the floor as stored afterwards.
    /// </summary>
    Task<SnapshotFloor> RaiseSnapshotFloorAsync(string box, SnapshotFloor reported, CancellationToken cancellationToken);

    /// <summary>
    /// Sets the mark (a box's last decision, an instance's last state) to <paramref name="signature"/>; true when it was
    /// absent or different. One statement, so that of several controllers making the same decision one stores it.
    /// </summary>
    Task<bool> SwapMarkAsync(string mark, string signature, CancellationToken cancellationToken);

    /// <summary>Records that a controller terminated the instance through the API (<see cref="SessionRow.ApiStoppedAt"/>), if its session is known.</summary>
    Task MarkApiStoppedAsync(string instanceId, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Inserts or refreshes a controller process (its <see cref="ControllerMember.LastSeen"/>, and its last pass when given).</summary>
    Task RecordMemberAsync(ControllerMember member, CancellationToken cancellationToken);

    /// <summary>Every controller that ever ran on this database, the most recently seen first.</summary>
    Task<IReadOnlyList<ControllerMember>> MembersAsync(CancellationToken cancellationToken);

    /// <summary>Records the box's next schedule trigger (a copy of the scheduler's, for <c>controller status</c>).</summary>
    Task SetBoxTriggerAsync(BoxTrigger trigger, CancellationToken cancellationToken);

    /// <summary>The box has no next schedule trigger (its schedule never changes again, or it left the configuration).</summary>
    Task RemoveBoxTriggerAsync(string box, CancellationToken cancellationToken);

    /// <summary>Every box's next schedule trigger, the soonest first.</summary>
    Task<IReadOnlyList<BoxTrigger>> BoxTriggersAsync(CancellationToken cancellationToken);
}

/// <summary>A box's next schedule trigger: it fires at <paramref name="FireAt"/>, just after the schedule change at <paramref name="ChangeAt"/>.</summary>
/// <param name="SetBy">The controller (member id) that set it last.</param>
public sealed record BoxTrigger(string Box, DateTimeOffset FireAt, DateTimeOffset ChangeAt, string SetBy, DateTimeOffset SetAt);

/// <summary>A member of a controller cluster as Quartz's clustered job store records it.</summary>
public sealed record ClusterCheckin(string MemberId, DateTimeOffset LastCheckin, TimeSpan Interval);

/// <summary>One <c>controller run</c> process, as it records itself in the store (<c>spotdevbox controller status</c> reads it).</summary>
/// <param name="MemberId">Its id in the cluster (Quartz's instance id): host name and a random part.</param>
/// <param name="LastSeen">When it last wrote this row (at start, at each pass, and at each cluster check-in).</param>
/// <param name="LastPassAt">When its last reconcile pass over every box ended; null: none yet.</param>
public sealed record ControllerMember(
    string MemberId,
    string Host,
    int ProcessId,
    string Version,
    DateTimeOffset StartedAt,
    DateTimeOffset LastSeen,
    DateTimeOffset? LastPassAt = null,
    double? LastPassSeconds = null,
    int? LastPassBoxes = null);
