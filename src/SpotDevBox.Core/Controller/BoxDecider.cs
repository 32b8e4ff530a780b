using System.Globalization;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Launch;
using SpotDevBox.Core.Savings;
using SpotDevBox.Core.Schedules;

namespace SpotDevBox.Core.Controller;

/// <summary>What reconcile knows about a box when it decides: read by <see cref="Reconciler"/>, decided on by <see cref="BoxDecider"/>.</summary>
/// <param name="Options">The box's configuration (its Elastic IP, its missed-start policy).</param>
/// <param name="Settings">Controller:Reconcile: the stop grace, the hard limit, when an agent's status is stale.</param>
/// <param name="Schedule">The box's schedule, and <paramref name="Overrides"/> the overrides in its control document.</param>
/// <param name="Wanted">What the schedule and overrides want now.</param>
/// <param name="Control">The control document (with the rollback floor as raised this pass).</param>
/// <param name="Status">The agent's status document.</param>
/// <param name="Live">The box's own live instances, oldest first (<see cref="BoxDecider.Live"/>).</param>
/// <param name="State">What the controller remembers about the box: a stop asked for, a launch backing off.</param>
/// <param name="LastSession">The box's latest session; read only when it matters (the box should be up and nothing is live).</param>
/// <param name="OverBudgetAllowed">An operator's budget override allows a launch past the budget now.</param>
/// <param name="AddressOnLive">This process already put the box's Elastic IP on its live instance.</param>
/// <param name="StartedAt">When this controller process started, and <paramref name="PreviousRun"/> when a controller last completed a pass before.</param>
internal sealed record BoxSituation(
    string Box,
    BoxOptions Options,
    ReconcileOptions Settings,
    DateTimeOffset Now,
    BoxSchedule Schedule,
    IReadOnlyList<ScheduleOverride> Overrides,
    ScheduleDecision Wanted,
    ControlDocument? Control,
    AgentStatus? Status,
    IReadOnlyList<BoxInstance> Live,
    BoxStateRow State,
    SessionRow? LastSession,
    BudgetVerdict Budget,
    bool OverBudgetAllowed,
    bool AddressOnLive,
    DateTimeOffset StartedAt,
    DateTimeOffset? PreviousRun);

/// <summary>A launch decided on; <see cref="ReconcileLauncher"/> carries it out.</summary>
/// <param name="Action"><see cref="ReconcileActions.Launch"/> or <see cref="ReconcileActions.Relaunch"/>.</param>
/// <param name="Why">The reason, which the outcome's reason begins with.</param>
/// <param name="Interrupted">The pool the box's last instance was interrupted in: tried last.</param>
/// <param name="State">The box's state as the launch finds it (a pending session id, failures so far).</param>
internal sealed record LaunchIntent(string Action, string Why, InterruptedPlacement? Interrupted, BoxStateRow State, DateTimeOffset? NextChange);

/// <summary>The box's Elastic IP is to be put on <paramref name="InstanceId"/>; <see cref="ElasticIps"/> does and says how it went.</summary>
internal sealed record AddressIntent(string InstanceId, DateTimeOffset? NextChange);

/// <summary>
/// What <see cref="BoxDecider"/> decided for a box, and what is to be done for it, in this order: terminate
/// <see cref="TerminateDuplicates"/>, write <see cref="WriteControl"/>, then <see cref="WriteState"/>, terminate
/// <see cref="ApiStop"/>; then the decision is <see cref="Decision"/>, or the outcome of <see cref="AssociateAddress"/>
/// or of <see cref="Launch"/>, whichever is set.
/// </summary>
internal sealed record BoxPlan
{
    public BoxDecision? Decision { get; init; }

    /// <summary>Live instances of the box beyond the oldest, which <see cref="Decision"/> names as kept.</summary>
    public IReadOnlyList<string> TerminateDuplicates { get; init; } = [];

    /// <summary>The box's control document as it is to be written (a stop asked for, or withdrawn).</summary>
    public ControlDocument? WriteControl { get; init; }

    /// <summary>The box's state as it is to be stored.</summary>
    public BoxStateRow? WriteState { get; init; }

    /// <summary>The instance to terminate through the API: its agent did not stop it in time.</summary>
    public string? ApiStop { get; init; }

    public AddressIntent? AssociateAddress { get; init; }

    public LaunchIntent? Launch { get; init; }
}

/// <summary>
/// What a box should be doing now, and why (the rules in <see cref="Reconciler"/>'s summary and docs/controller.md),
/// from what reconcile read about it: no I/O, no clock, no state of its own.
/// </summary>
internal static class BoxDecider
{
    /// <summary>A session that began this little before the period's start (clock skew, a trigger a moment early) still counts for the period.</summary>
    internal static readonly TimeSpan PeriodSkew = TimeSpan.FromMinutes(2);

    /// <summary>The live instances of the box, oldest first (the one kept when there are two).</summary>
    public static IReadOnlyList<BoxInstance> Live(IReadOnlyList<BoxInstance> instances) =>
        [.. instances.Where(i => i.IsLive).OrderBy(i => i.LaunchTime).ThenBy(i => i.InstanceId, StringComparer.Ordinal)];

    public static BoxPlan Decide(BoxSituation s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var (box, wanted, live) = (s.Box, s.Wanted, s.Live);
        if (live.Count > 1)
        {
            var keep = live[0];
            return new BoxPlan
            {
                TerminateDuplicates = [.. live.Skip(1).Select(i => i.InstanceId)],
                Decision = new BoxDecision(
                    box,
                    ReconcileActions.TerminateDuplicate,
                    $"box {box} had {live.Count} live instances (launched at once from two places): kept the oldest, {keep.InstanceId}, terminated {string.Join(", ", live.Skip(1).Select(i => i.InstanceId))}",
                    keep.InstanceId,
                    wanted.NextChange),
            };
        }

        if (live.Count == 1)
        {
            return DecideLive(s, live[0]);
        }

        var state = s.State;
        BoxStateRow? write = null;
        if (state.StopRequestedAt is not null)
        {
            // The instance the stop was for is gone: nothing is pending any more.
            state = write = state with { StopRequestedAt = null, StopInstanceId = null, StopReason = null };
        }

        var plan = DecideNotLive(s, state);
        return write is null ? plan : plan with { WriteState = write };
    }

    private static BoxPlan DecideNotLive(BoxSituation s, BoxStateRow state)
    {
        var (box, wanted, now, status, last) = (s.Box, s.Wanted, s.Now, s.Status, s.LastSession);
        if (!wanted.Up)
        {
            return Decided(new BoxDecision(box, ReconcileActions.None, $"down and not running: {wanted.Reason}", null, wanted.NextChange));
        }

        var periodStart = wanted.Source == DecisionSource.Override && wanted.Override is { } up ? up.From : wanted.WindowStart ?? now;
        var sessionInPeriod = last is not null && last.Start >= periodStart - PeriodSkew;
        var agentInPeriod = status is not null && status.SessionStart >= periodStart - PeriodSkew;
        if (sessionInPeriod && last!.IsOpen)
        {
            return Decided(new BoxDecision(box, ReconcileActions.None, $"{last.InstanceId} was launched at {last.Start.UtcDateTime:HH:mm:ss} UTC and EC2 does not list it yet: waiting", last.InstanceId, wanted.NextChange));
        }

        if (sessionInPeriod || agentInPeriod)
        {
            var interrupted = sessionInPeriod
                ? last!.EndedBy == SessionEndings.Interruption
                : status!.State == AgentState.Interrupted;
            if (interrupted)
            {
                var pool = sessionInPeriod
                    ? new InterruptedPlacement(last!.InstanceType, last.AvailabilityZone)
                    : status!.InstanceType is { } t && status.AvailabilityZone is { } z ? new InterruptedPlacement(t, z) : null;
                var which = sessionInPeriod ? last!.InstanceId : status!.InstanceId ?? "its instance";
                return Launch(
                    s, state, ReconcileActions.Relaunch,
                    $"{which} was interrupted by EC2 inside the window ({wanted.Reason}): relaunching{(pool is null ? "" : $", away from {pool} first")}",
                    pool);
            }

            var (ended, how) = sessionInPeriod
                ? (last!.End ?? last.Start, last.EndedBy ?? SessionEndings.Unknown)
                : (status!.UpdatedAt, status.StopReason ?? status.State.ToString().ToLowerInvariant());
            var whenEnded = new ScheduleTimeline(s.Schedule).Local(ended).ToString("ddd HH:mm", CultureInfo.InvariantCulture);
            return Decided(new BoxDecision(
                box,
                ReconcileActions.None,
                $"up-period ({wanted.Reason}), but the box's session in it ended at {whenEnded} ({how}) without an interruption: not relaunched; 'spotdevbox up {box}' starts it again",
                null,
                wanted.NextChange));
        }

        if (periodStart < s.StartedAt && (s.PreviousRun is null || s.PreviousRun < periodStart))
        {
            var catchUp = MissedTransitions.MissedStart(s.Schedule, s.Overrides, s.PreviousRun, now, s.Options.Schedule.ToMissedStartPolicy());
            if (catchUp.Action != CatchUpAction.StartNow)
            {
                return Decided(new BoxDecision(box, ReconcileActions.SkipMissedStart, catchUp.Reason, null, wanted.NextChange));
            }

            return Launch(s, state, ReconcileActions.Launch, catchUp.Reason, null);
        }

        return Launch(s, state, ReconcileActions.Launch, $"start: {wanted.Reason}", null);
    }

    private static BoxPlan DecideLive(BoxSituation s, BoxInstance instance)
    {
        var (box, o, wanted, control, status, state, now, settings) = (s.Box, s.Options, s.Wanted, s.Control, s.Status, s.State, s.Now, s.Settings);
        var id = instance.InstanceId;
        var stopPending = state.StopRequestedAt is not null && state.StopInstanceId == id;
        if (wanted.Up)
        {
            if (stopPending)
            {
                return new BoxPlan
                {
                    WriteControl = control is not null && control.StopInstanceId == id && string.Equals(control.StopReason, "schedule", StringComparison.Ordinal)
                        ? control with { StopAt = null, StopReason = null, StopInstanceId = null, RequestedBy = null, UpdatedAt = now }
                        : null,
                    WriteState = state with { StopRequestedAt = null, StopInstanceId = null, StopReason = null },
                    Decision = new BoxDecision(box, ReconcileActions.WithdrawStop, $"up again ({wanted.Reason}): withdrew the stop asked of {id}", id, wanted.NextChange),
                };
            }

            var reset = state.LaunchFailures > 0 || state.PendingSessionId is not null
                ? state with { LaunchFailures = 0, NextLaunchAttemptAt = null, PendingSessionId = null }
                : null;
            if (!string.IsNullOrWhiteSpace(o.ElasticIp) && instance.State == InstanceState.Running && !s.AddressOnLive)
            {
                return new BoxPlan { WriteState = reset, AssociateAddress = new AddressIntent(id, wanted.NextChange) };
            }

            return new BoxPlan
            {
                WriteState = reset,
                Decision = new BoxDecision(box, ReconcileActions.None, $"up: {id} is {ReconcileText.Name(instance.State)}; {wanted.Reason}", id, wanted.NextChange),
            };
        }

        if (!stopPending)
        {
            var reason = wanted.Source == DecisionSource.Override ? "override" : "schedule";
            var basis = control ?? new ControlDocument();
            return new BoxPlan
            {
                WriteControl = basis with { StopAt = now, StopReason = "schedule", StopInstanceId = id, RequestedBy = $"controller: {wanted.Reason}", UpdatedAt = now },
                WriteState = state with { StopRequestedAt = now, StopInstanceId = id, StopReason = reason },
                Decision = new BoxDecision(
                    box,
                    ReconcileActions.RequestStop,
                    $"down ({wanted.Reason}): asked the agent on {id} to warn its users, back up and power off; through the API after {ReconcileText.Span(settings.StopGrace)} if no live agent answers",
                    id,
                    wanted.NextChange),
            };
        }

        var asked = now - state.StopRequestedAt!.Value;
        var agentLive = status is not null
            && string.Equals(status.InstanceId, id, StringComparison.Ordinal)
            && now - status.UpdatedAt <= settings.AgentStaleAfter
            && status.State is not (AgentState.Stopped or AgentState.RestoreFailed);
        var agentSays = status is null
            ? "its agent never wrote a status"
            : !string.Equals(status.InstanceId, id, StringComparison.Ordinal)
                ? $"the status is of another instance ({status.InstanceId ?? "none"})"
                : $"its agent is {status.State.ToString().ToLowerInvariant()}, status written {ReconcileText.Span(now - status.UpdatedAt)} ago";
        if (!agentLive && asked >= settings.StopGrace)
        {
            return new BoxPlan
            {
                ApiStop = id,
                Decision = new BoxDecision(
                    box,
                    ReconcileActions.ApiStop,
                    $"no live agent on {id} ({agentSays}) {ReconcileText.Span(asked)} after it was asked to stop: terminated it through the API; work since its last snapshot is lost",
                    id,
                    wanted.NextChange),
            };
        }

        if (asked >= settings.StopHardLimit)
        {
            return new BoxPlan
            {
                ApiStop = id,
                Decision = new BoxDecision(
                    box,
                    ReconcileActions.ApiStop,
                    $"{id} still runs {ReconcileText.Span(asked)} after its agent was asked to stop ({agentSays}), past Reconcile:StopHardLimit {ReconcileText.Span(settings.StopHardLimit)}: terminated it through the API",
                    id,
                    wanted.NextChange),
            };
        }

        return Decided(new BoxDecision(
            box,
            ReconcileActions.WaitForAgent,
            agentLive
                ? $"asked {id} to stop {ReconcileText.Span(asked)} ago; {agentSays}: waiting for it (it may postpone while users work)"
                : $"asked {id} to stop {ReconcileText.Span(asked)} ago; {agentSays}: terminating through the API in {ReconcileText.Span(settings.StopGrace - asked)} unless it answers",
            id,
            wanted.NextChange));
    }

    /// <summary>A launch, unless the budget is spent (and no operator's override allows it) or failed launches are backing off.</summary>
    private static BoxPlan Launch(BoxSituation s, BoxStateRow state, string action, string why, InterruptedPlacement? interrupted)
    {
        var (box, wanted, budget, now) = (s.Box, s.Wanted, s.Budget, s.Now);
        if (!budget.Allowed && !s.OverBudgetAllowed)
        {
            return Decided(new BoxDecision(box, ReconcileActions.BudgetExceeded, $"{why}; not launched: {budget.Refusal}", null, wanted.NextChange));
        }

        if (state.NextLaunchAttemptAt is { } next && next > now)
        {
            return Decided(new BoxDecision(
                box,
                ReconcileActions.LaunchDeferred,
                $"{why}; {state.LaunchFailures} launch(es) failed in a row, next attempt at {next.UtcDateTime:HH:mm:ss} UTC",
                null,
                wanted.NextChange));
        }

        return new BoxPlan { Launch = new LaunchIntent(action, why, interrupted, state, wanted.NextChange) };
    }

    private static BoxPlan Decided(BoxDecision decision) => new() { Decision = decision };
}
