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
    DateTimeOffset? LastSeenRunning = null)
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
}
