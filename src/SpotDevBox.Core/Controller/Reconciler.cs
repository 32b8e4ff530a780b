using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Launch;
using SpotDevBox.Core.Savings;
using SpotDevBox.Core.Schedules;

namespace SpotDevBox.Core.Controller;

/// <summary>What reconcile decided for a box, and why; also what <c>controller run</c> derives its next trigger from.</summary>
/// <param name="Action">See <see cref="ReconcileActions"/>.</param>
/// <param name="NextChange">When the schedule (with overrides) next flips the box up or down: the next Quartz trigger.</param>
/// <param name="Signature">What makes a repeat the same decision for the log (default: the reason); a budget warning repeats while only its amount grows.</param>
/// <param name="SessionId">The session the decision concerns, when it is not the one the store has for <paramref name="InstanceId"/> (a launch that failed with its outcome unknown keeps its session id for the next attempt).</param>
public sealed record BoxDecision(string Box, string Action, string Reason, string? InstanceId = null, DateTimeOffset? NextChange = null, string? Signature = null, string? SessionId = null);

/// <summary>The actions a decision names, as they appear in the log and in the store.</summary>
public static class ReconcileActions
{
    public const string None = "none";
    public const string Launch = "launch";
    public const string Relaunch = "relaunch";
    public const string LaunchFailed = "launch-failed";
    public const string LaunchDeferred = "launch-deferred";
    /// <summary>Another launcher (an <c>up</c>, another controller) holds the box's launch claim: this pass does not launch it.</summary>
    public const string LaunchClaimed = "launch-claimed";
    public const string SkipMissedStart = "skip-missed-start";
    public const string RequestStop = "request-stop";
    public const string WithdrawStop = "withdraw-stop";
    public const string WaitForAgent = "wait-for-agent";
    public const string ApiStop = "api-stop";
    public const string TerminateDuplicate = "terminate-duplicate";
    public const string AssociateAddress = "associate-address";
    public const string BudgetWarning = "budget-warning";
    public const string BudgetExceeded = "budget-exceeded";
    public const string AddressFailed = "address-failed";
    public const string SessionStarted = "session-start";
    public const string SessionEnded = "session-end";
    public const string InstanceState = "instance-state";
    public const string Unreachable = "unreachable";
    /// <summary>
    /// A security event: an instance carries the box's tag but not the box's instance profile (someone else launched
    /// it). It is left alone: not adopted, not terminated, no Elastic IP, no session (docs/security.md).
    /// </summary>
    public const string ForeignInstance = "foreign-instance";
}

/// <summary>How a session ended, as <see cref="SessionRow.EndedBy"/> stores it.</summary>
public static class SessionEndings
{
    public const string Interruption = "interruption";
    public const string ApiStop = "api-stop";
    public const string InstanceShutdown = "instance-shutdown";
    public const string TerminatedByUser = "terminated-by-user";
    public const string Unknown = "unknown";

    /// <summary>The agent's own words: idle, schedule, manual, max-session-length, interruption, system-shutdown, service-stopped.</summary>
    public static string Of(SessionEnd end) => end switch
    {
        SessionEnd.MaxSessionLength => "max-session-length",
        SessionEnd.SystemShutdown => "system-shutdown",
        SessionEnd.ServiceStopped => "service-stopped",
        _ => end.ToString().ToLowerInvariant(),
    };
}

/// <summary>
/// Brings every box in line with its schedule: finds the boxes' instances (one DescribeInstances per
/// region), records sessions, and per box decides, with a reason that is logged and stored:
/// <list type="bullet">
/// <item>should be up, nothing live, and no session began in this up-period: launch (after the controller
/// was down at the period's start, only as the missed-start policy allows);</item>
/// <item>should be up, and this period's last session ended by a spot interruption: relaunch, away from the
/// interrupted pool; ended any other way (idle, a person): stay down;</item>
/// <item>should be down and live: ask the agent to stop (control.json); with no live agent, stop it through
/// the API after the grace period; with a live agent that does not stop, after the hard limit;</item>
/// <item>two live instances of a box (two processes launched at once): keep the oldest, terminate the others.</item>
/// </list>
/// Only an instance whose IAM instance profile is the box's own is the box's (<see cref="InstanceProfiles"/>); any
/// other instance with the box's tag is recorded as <see cref="ReconcileActions.ForeignInstance"/> and left alone.
/// See docs/controller.md.
/// </summary>
public sealed partial class Reconciler(
    IOptions<ControllerOptions> options,
    IComputeGatewayFactory gateways,
    IControllerStore store,
    IBoxDocuments documents,
    ILaunchUserData userData,
    BoxLauncher launcher,
    LaunchClaims claims,
    IBudgetGuard budgets,
    ISessionCostRecorder costs,
    TimeProvider time,
    ILogger<Reconciler> logger) : IDisposable
{
    /// <summary>A session that began this little before the period's start (clock skew, a trigger a moment early) still counts for the period.</summary>
    internal static readonly TimeSpan PeriodSkew = TimeSpan.FromMinutes(2);

    /// <summary>An open session whose instance EC2 does not list is taken as ended only once it is older than this.</summary>
    internal static readonly TimeSpan ListingLag = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, SemaphoreSlim> _boxGates = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _lastLogged = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _apiStopped = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _addressed = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, InstanceState> _lastState = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _ignoredControlOverride = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _startGate = new(1, 1);
    private DateTimeOffset? _previousRun;
    private DateTimeOffset _startedAt;
    private bool _started;

    /// <summary>When the controller last completed a pass before this process started: the missed-start rules compare with it.</summary>
    public DateTimeOffset? PreviousRun => _previousRun;

    /// <summary>Reads when the controller last ran; the first pass calls it when nobody did.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _startGate.WaitAsync(cancellationToken);
        try
        {
            if (_started)
            {
                return;
            }

            await store.InitializeAsync(cancellationToken);
            _previousRun = await store.GetLastRunAsync(cancellationToken);
            _startedAt = time.GetUtcNow();
            _started = true;
            var previous = _previousRun?.ToString("u", CultureInfo.InvariantCulture) ?? "never (no record)";
            LogStarted(logger, options.Value.Boxes.Count, previous);
            if (options.Value.Boxes.Count > 0 && FleetOptions.MissingRepositoryKey(options.Value.Fleet) is { } missingKey)
            {
                // A warning, not a refusal to start: boxes launched earlier are still asked to stop on schedule, their
                // interruptions and costs recorded; only launches are refused, each pass saying so per box.
                LogNoRepositoryKey(logger, missingKey);
            }

            foreach (var (box, _) in options.Value.Boxes.Where(b => string.IsNullOrWhiteSpace(b.Value.InstanceProfile)).OrderBy(b => b.Key, StringComparer.Ordinal))
            {
                LogNoInstanceProfile(logger, box);
            }
        }
        finally
        {
            _startGate.Release();
        }
    }

    /// <summary>One pass over every box; a region EC2 cannot be asked about is skipped (and said so) until the next pass.</summary>
    public async Task<IReadOnlyList<BoxDecision>> ReconcileAllAsync(CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken);
        var decisions = new List<BoxDecision>();
        foreach (var region in options.Value.Boxes.GroupBy(b => b.Value.Region, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            IReadOnlyList<BoxInstance> instances;
            try
            {
                instances = await gateways.ForRegion(region.Key).FindBoxInstancesAsync(null, cancellationToken);
            }
            catch (ComputeException e)
            {
                LogRegionUnreachable(logger, region.Key, e.Failure.ToString(), e.Message);
                decisions.AddRange(region.Select(b => new BoxDecision(b.Key, ReconcileActions.Unreachable, $"EC2 in {region.Key} could not be asked: {e.Message}")));
                continue;
            }

            foreach (var (box, boxOptions) in region.OrderBy(b => b.Key, StringComparer.Ordinal))
            {
                decisions.Add(await ReconcileBoxAsync(box, boxOptions, [.. instances.Where(i => i.Box == box)], cancellationToken));
            }
        }

        await store.SetLastRunAsync(time.GetUtcNow(), cancellationToken);
        return decisions;
    }

    /// <summary>One box now (a schedule trigger fired): its instances are listed with one call.</summary>
    public async Task<BoxDecision> ReconcileBoxAsync(string box, CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken);
        if (!options.Value.Boxes.TryGetValue(box, out var boxOptions))
        {
            throw new ArgumentException($"there is no box '{box}' in {ControllerOptions.SectionName}:Boxes", nameof(box));
        }

        IReadOnlyList<BoxInstance> instances;
        try
        {
            instances = await gateways.ForRegion(boxOptions.Region).FindBoxInstancesAsync(box, cancellationToken);
        }
        catch (ComputeException e)
        {
            LogRegionUnreachable(logger, boxOptions.Region, e.Failure.ToString(), e.Message);
            return new BoxDecision(box, ReconcileActions.Unreachable, $"EC2 in {boxOptions.Region} could not be asked: {e.Message}");
        }

        return await ReconcileBoxAsync(box, boxOptions, instances, cancellationToken);
    }

    private async Task<BoxDecision> ReconcileBoxAsync(string box, BoxOptions o, IReadOnlyList<BoxInstance> instances, CancellationToken cancellationToken)
    {
        var gate = _boxGates.GetOrAdd(box, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            // Only the box's own instances (its instance profile) are the box's; the others are reported and left alone.
            foreach (var foreign in instances.Foreign(o.InstanceProfile).Where(i => i.IsLive))
            {
                var profile = InstanceProfiles.Describe(foreign.InstanceProfileArn);
                await RecordAsync(
                    new BoxDecision(
                        box,
                        ReconcileActions.ForeignInstance,
                        $"{foreign.InstanceId} carries the tag {BoxTags.Box}={box} but its instance profile is {profile}, not the box's ({(string.IsNullOrWhiteSpace(o.InstanceProfile) ? "none" : o.InstanceProfile.Trim())}): not adopted, left alone (not terminated, no Elastic IP, no session)",
                        foreign.InstanceId,
                        Signature: profile),
                    cancellationToken);
            }

            var decision = await DecideAsync(box, o, instances.Owned(o.InstanceProfile), cancellationToken);
            await RecordAsync(decision, cancellationToken);
            return decision;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ComputeException or UnauthorizedAccessException or TimeoutException or HttpRequestException)
        {
            var failed = new BoxDecision(box, ReconcileActions.Unreachable, $"box {box} not reconciled this pass: {e.Message}");
            await RecordAsync(failed, cancellationToken);
            return failed;
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<BoxDecision> DecideAsync(string box, BoxOptions o, IReadOnlyList<BoxInstance> instances, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var settings = options.Value.Reconcile;
        var schedule = o.Schedule.ToSchedule();
        var control = await ReadControlAsync(box, o, cancellationToken);
        IReadOnlyList<ScheduleOverride> overrides = control?.Override?.ToOverride() is { } ov ? [ov] : [];
        var wanted = ScheduleEvaluator.Evaluate(schedule, overrides, now);
        var status = await ReadStatusAsync(box, o, cancellationToken);
        var gateway = gateways.ForRegion(o.Region);

        await TrackSessionsAsync(box, o, gateway, instances, now, cancellationToken);
        control = await RecordSnapshotFloorAsync(box, o, status, control, instances, now, cancellationToken);
        var budget = await budgets.CheckAsync(box, options.Value, cancellationToken);
        foreach (var warning in budget.Warnings)
        {
            var whose = warning[..Math.Max(0, warning.IndexOf(':', StringComparison.Ordinal))];
            await RecordAsync(new BoxDecision(box, ReconcileActions.BudgetWarning, warning, Signature: $"{whose} {(budget.Allowed ? "past 80%" : "spent")}"), cancellationToken);
        }

        if (control?.BudgetOverrideUntil is not null && _ignoredControlOverride.TryAdd(box, 0))
        {
            LogControlOverrideIgnored(logger, box, documents.BudgetOverrideLocation(o.Storage, o.Owner, box));
        }

        // The operator's document is read only when the budget is spent: a GET a pass saved for every other box.
        var overBudgetAllowed = !budget.Allowed && (await ReadBudgetOverrideAsync(box, o, cancellationToken))?.AllowsAt(now) == true;

        var live = instances.Where(i => i.IsLive).OrderBy(i => i.LaunchTime).ThenBy(i => i.InstanceId, StringComparer.Ordinal).ToList();
        if (live.Count > 1)
        {
            var keep = live[0];
            foreach (var extra in live.Skip(1))
            {
                await gateway.TerminateAsync(extra.InstanceId, cancellationToken);
                _apiStopped[extra.InstanceId] = 0;
                LogDuplicateTerminated(logger, box, extra.InstanceId, keep.InstanceId);
            }

            return new BoxDecision(
                box,
                ReconcileActions.TerminateDuplicate,
                $"box {box} had {live.Count} live instances (launched at once from two places): kept the oldest, {keep.InstanceId}, terminated {string.Join(", ", live.Skip(1).Select(i => i.InstanceId))}",
                keep.InstanceId,
                wanted.NextChange);
        }

        var state = await store.GetBoxStateAsync(box, cancellationToken) ?? new BoxStateRow(box);
        if (live.Count == 1)
        {
            return await DecideLiveAsync(box, o, live[0], wanted, control, status, state, gateway, now, settings, cancellationToken);
        }

        if (state.StopRequestedAt is not null)
        {
            // The instance the stop was for is gone: nothing is pending any more.
            state = state with { StopRequestedAt = null, StopInstanceId = null, StopReason = null };
            await store.SetBoxStateAsync(state, cancellationToken);
        }

        if (!wanted.Up)
        {
            return new BoxDecision(box, ReconcileActions.None, $"down and not running: {wanted.Reason}", null, wanted.NextChange);
        }

        var periodStart = wanted.Source == DecisionSource.Override && wanted.Override is { } up ? up.From : wanted.WindowStart ?? now;
        var last = await store.LastSessionAsync(box, cancellationToken);
        var sessionInPeriod = last is not null && last.Start >= periodStart - PeriodSkew;
        var agentInPeriod = status is not null && status.SessionStart >= periodStart - PeriodSkew;
        if (sessionInPeriod && last!.IsOpen)
        {
            return new BoxDecision(box, ReconcileActions.None, $"{last.InstanceId} was launched at {last.Start.UtcDateTime:HH:mm:ss} UTC and EC2 does not list it yet: waiting", last.InstanceId, wanted.NextChange);
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
                return await LaunchAsync(
                    box, o, state, wanted, now, budget, overBudgetAllowed, ReconcileActions.Relaunch,
                    $"{which} was interrupted by EC2 inside the window ({wanted.Reason}): relaunching{(pool is null ? "" : $", away from {pool} first")}",
                    pool,
                    cancellationToken);
            }

            var (ended, how) = sessionInPeriod
                ? (last!.End ?? last.Start, last.EndedBy ?? SessionEndings.Unknown)
                : (status!.UpdatedAt, status.StopReason ?? status.State.ToString().ToLowerInvariant());
            var whenEnded = new ScheduleTimeline(schedule).Local(ended).ToString("ddd HH:mm", CultureInfo.InvariantCulture);
            return new BoxDecision(
                box,
                ReconcileActions.None,
                $"up-period ({wanted.Reason}), but the box's session in it ended at {whenEnded} ({how}) without an interruption: not relaunched; 'spotdevbox up {box}' starts it again",
                null,
                wanted.NextChange);
        }

        if (periodStart < _startedAt && (_previousRun is null || _previousRun < periodStart))
        {
            var catchUp = MissedTransitions.MissedStart(schedule, overrides, _previousRun, now, o.Schedule.ToMissedStartPolicy());
            if (catchUp.Action != CatchUpAction.StartNow)
            {
                return new BoxDecision(box, ReconcileActions.SkipMissedStart, catchUp.Reason, null, wanted.NextChange);
            }

            return await LaunchAsync(box, o, state, wanted, now, budget, overBudgetAllowed, ReconcileActions.Launch, catchUp.Reason, null, cancellationToken);
        }

        return await LaunchAsync(box, o, state, wanted, now, budget, overBudgetAllowed, ReconcileActions.Launch, $"start: {wanted.Reason}", null, cancellationToken);
    }

    private async Task<BoxDecision> DecideLiveAsync(
        string box,
        BoxOptions o,
        BoxInstance instance,
        ScheduleDecision wanted,
        ControlDocument? control,
        AgentStatus? status,
        BoxStateRow state,
        IComputeGateway gateway,
        DateTimeOffset now,
        ReconcileOptions settings,
        CancellationToken cancellationToken)
    {
        var id = instance.InstanceId;
        var stopPending = state.StopRequestedAt is not null && state.StopInstanceId == id;
        if (wanted.Up)
        {
            if (stopPending)
            {
                if (control is not null && control.StopInstanceId == id && string.Equals(control.StopReason, "schedule", StringComparison.Ordinal))
                {
                    await documents.WriteControlAsync(o.Storage, control with { StopAt = null, StopReason = null, StopInstanceId = null, RequestedBy = null, UpdatedAt = now }, cancellationToken);
                }

                await store.SetBoxStateAsync(state with { StopRequestedAt = null, StopInstanceId = null, StopReason = null }, cancellationToken);
                return new BoxDecision(box, ReconcileActions.WithdrawStop, $"up again ({wanted.Reason}): withdrew the stop asked of {id}", id, wanted.NextChange);
            }

            if (state.LaunchFailures > 0 || state.PendingSessionId is not null)
            {
                await store.SetBoxStateAsync(state with { LaunchFailures = 0, NextLaunchAttemptAt = null, PendingSessionId = null }, cancellationToken);
            }

            if (!string.IsNullOrWhiteSpace(o.ElasticIp) && instance.State == InstanceState.Running && !_addressed.ContainsKey(id))
            {
                try
                {
                    var address = await gateway.AssociateAddressAsync(o.ElasticIp.Trim(), id, cancellationToken);
                    _addressed[id] = 0;
                    return new BoxDecision(box, ReconcileActions.AssociateAddress, $"Elastic IP {o.ElasticIp} ({address}) is on {id}", id, wanted.NextChange);
                }
                catch (ComputeException e) when (e.Failure is ComputeFailure.NotReady or ComputeFailure.Throttled or ComputeFailure.Unavailable)
                {
                    return new BoxDecision(box, ReconcileActions.AssociateAddress, $"Elastic IP {o.ElasticIp} not yet on {id} ({e.Message}); trying again next pass", id, wanted.NextChange);
                }
                catch (ComputeException e)
                {
                    // A wrong allocation id or missing permission: said once (the reason does not change), tried every pass.
                    return new BoxDecision(box, ReconcileActions.AddressFailed, $"Elastic IP {o.ElasticIp} cannot be put on {id}: {e.Message}; the box runs at its own address", id, wanted.NextChange);
                }
            }

            return new BoxDecision(box, ReconcileActions.None, $"up: {id} is {Name(instance.State)}; {wanted.Reason}", id, wanted.NextChange);
        }

        if (!stopPending)
        {
            var reason = wanted.Source == DecisionSource.Override ? "override" : "schedule";
            var basis = control ?? new ControlDocument();
            await documents.WriteControlAsync(
                o.Storage,
                basis with { StopAt = now, StopReason = "schedule", StopInstanceId = id, RequestedBy = $"controller: {wanted.Reason}", UpdatedAt = now },
                cancellationToken);
            await store.SetBoxStateAsync(state with { StopRequestedAt = now, StopInstanceId = id, StopReason = reason }, cancellationToken);
            return new BoxDecision(
                box,
                ReconcileActions.RequestStop,
                $"down ({wanted.Reason}): asked the agent on {id} to warn its users, back up and power off; through the API after {Span(settings.StopGrace)} if no live agent answers",
                id,
                wanted.NextChange);
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
                : $"its agent is {status.State.ToString().ToLowerInvariant()}, status written {Span(now - status.UpdatedAt)} ago";
        if (!agentLive && asked >= settings.StopGrace)
        {
            await ApiStopAsync(gateway, id, cancellationToken);
            return new BoxDecision(
                box,
                ReconcileActions.ApiStop,
                $"no live agent on {id} ({agentSays}) {Span(asked)} after it was asked to stop: terminated it through the API; work since its last snapshot is lost",
                id,
                wanted.NextChange);
        }

        if (asked >= settings.StopHardLimit)
        {
            await ApiStopAsync(gateway, id, cancellationToken);
            return new BoxDecision(
                box,
                ReconcileActions.ApiStop,
                $"{id} still runs {Span(asked)} after its agent was asked to stop ({agentSays}), past Reconcile:StopHardLimit {Span(settings.StopHardLimit)}: terminated it through the API",
                id,
                wanted.NextChange);
        }

        return new BoxDecision(
            box,
            ReconcileActions.WaitForAgent,
            agentLive
                ? $"asked {id} to stop {Span(asked)} ago; {agentSays}: waiting for it (it may postpone while users work)"
                : $"asked {id} to stop {Span(asked)} ago; {agentSays}: terminating through the API in {Span(settings.StopGrace - asked)} unless it answers",
            id,
            wanted.NextChange);
    }

    private async Task<BoxDecision> LaunchAsync(
        string box,
        BoxOptions o,
        BoxStateRow state,
        ScheduleDecision wanted,
        DateTimeOffset now,
        BudgetVerdict budget,
        bool overBudgetAllowed,
        string action,
        string why,
        InterruptedPlacement? interrupted,
        CancellationToken cancellationToken)
    {
        if (!budget.Allowed && !overBudgetAllowed)
        {
            return new BoxDecision(box, ReconcileActions.BudgetExceeded, $"{why}; not launched: {budget.Refusal}", null, wanted.NextChange);
        }

        if (state.NextLaunchAttemptAt is { } next && next > now)
        {
            return new BoxDecision(
                box,
                ReconcileActions.LaunchDeferred,
                $"{why}; {state.LaunchFailures} launch(es) failed in a row, next attempt at {next.UtcDateTime:HH:mm:ss} UTC",
                null,
                wanted.NextChange);
        }

        // The launch claim (launch.json, docs/controller.md "One instance per box"): an `up` from any machine, or
        // another controller, launching the box now holds it, and this pass leaves the box to that launch.
        var session = state.PendingSessionId ?? NewSessionId(now);
        LaunchClaim? won = null;
        LaunchResult result;
        try
        {
            var claim = await claims.ClaimAsync(box, o, session, "controller", cancellationToken);
            if (claim is ClaimOutcome.Following following)
            {
                var held = following.Claim;
                return new BoxDecision(
                    box,
                    ReconcileActions.LaunchClaimed,
                    $"{why}; not launched: {held.ClaimedBy} launched it at {held.ClaimedAt.UtcDateTime:HH:mm:ss} UTC (session {held.SessionId}{(held.InstanceId is { } iid ? $", {iid}" : "")})",
                    held.InstanceId,
                    wanted.NextChange,
                    SessionId: held.SessionId);
            }

            won = ((ClaimOutcome.Won)claim).Claim;
            var floor = await store.GetSnapshotFloorAsync(box, cancellationToken);
            var render = await userData.PrepareAsync(box, o, new RollbackGuard(floor, AllowRollback: false), cancellationToken);
            result = await launcher.LaunchAsync(new BoxLaunch(box, o, session, render, interrupted), cancellationToken);
        }
        catch (Exception e) when (e is UserDataException or AgentBuildException or IOException or InvalidDataException)
        {
            result = new LaunchResult.Failed(won is null ? LaunchFailure.Unavailable : LaunchFailure.Rejected, $"box {box} not launched: {e.Message}", []);
        }

        if (won is not null)
        {
            try
            {
                switch (result)
                {
                    case LaunchResult.Launched l:
                        await claims.RecordInstanceAsync(o, won, l.Instance.InstanceId, cancellationToken);
                        break;
                    case LaunchResult.AlreadyRunning r:
                        await claims.RecordInstanceAsync(o, won, r.Instance.InstanceId, cancellationToken);
                        break;
                    case LaunchResult.Failed { Failure: not LaunchFailure.Indeterminate } f:
                        await claims.ReleaseAsync(o, won, f.Reason, cancellationToken);
                        break;
                }
            }
            catch (Exception e) when (e is IOException or InvalidDataException)
            {
                // The claim expires on its own; the launch's outcome stands.
                LogDocumentUnreadable(logger, box, "launch.json", e.Message);
            }
        }

        switch (result)
        {
            case LaunchResult.Launched launched:
                await store.SetBoxStateAsync(state with { LaunchFailures = 0, NextLaunchAttemptAt = null, PendingSessionId = null }, cancellationToken);
                await OpenSessionAsync(box, o, launched.Instance, launched.Candidate.SpotPricePerHour, cancellationToken);
                var c = launched.Candidate;
                return new BoxDecision(
                    box,
                    action,
                    $"{why}: launched {launched.Instance.InstanceId} ({c})",
                    launched.Instance.InstanceId,
                    wanted.NextChange,
                    SessionId: launched.Instance.SessionId ?? session);

            case LaunchResult.AlreadyRunning running:
                return new BoxDecision(box, ReconcileActions.None, $"{why}: {running.Instance.InstanceId} is already {Name(running.Instance.State)}", running.Instance.InstanceId, wanted.NextChange);

            case LaunchResult.Failed failed:
                var failures = state.LaunchFailures + 1;
                var delay = failed.Failure == LaunchFailure.Rejected
                    ? options.Value.Reconcile.MaxLaunchRetryDelay
                    : TimeSpan.FromMinutes(Math.Min(Math.Pow(2, failures - 1), options.Value.Reconcile.MaxLaunchRetryDelay.TotalMinutes));
                await store.SetBoxStateAsync(
                    state with
                    {
                        LaunchFailures = failures,
                        NextLaunchAttemptAt = now + delay,
                        PendingSessionId = failed.Failure == LaunchFailure.Indeterminate ? session : null,
                    },
                    cancellationToken);
                return new BoxDecision(
                    box,
                    ReconcileActions.LaunchFailed,
                    $"{why}: {failed.Reason}; retrying in {Span(delay)}",
                    null,
                    wanted.NextChange,
                    SessionId: failed.Failure == LaunchFailure.Indeterminate ? session : null);

            default:
                throw new InvalidOperationException($"unexpected launch result {result.GetType().Name}");
        }
    }

    /// <summary>Opens a session for each instance seen for the first time and closes those that ended or are gone.</summary>
    private async Task TrackSessionsAsync(string box, BoxOptions o, IComputeGateway gateway, IReadOnlyList<BoxInstance> instances, DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var instance in instances)
        {
            var was = _lastState.TryGetValue(instance.InstanceId, out var seen) ? seen : (InstanceState?)null;
            if (was != instance.State)
            {
                _lastState[instance.InstanceId] = instance.State;
                var why = instance.StateReason is { } sr && !instance.IsLive ? $" ({sr.Code})" : "";
                await RecordAsync(
                    new BoxDecision(box, ReconcileActions.InstanceState, $"{instance.InstanceId}: {(was is { } w ? Name(w) + " -> " : "")}{Name(instance.State)}{why}", instance.InstanceId),
                    cancellationToken);
            }

            var row = await store.GetSessionAsync(instance.InstanceId, cancellationToken);
            if (row is null)
            {
                row = await OpenSessionAsync(box, o, instance, await PriceAtStartAsync(gateway, instance, cancellationToken), cancellationToken);
            }

            if (row.IsOpen && !instance.IsLive)
            {
                await CloseSessionAsync(row, o, instance, now, cancellationToken);
            }
        }

        // In the store, not in memory: a restart must not forget when an instance was last seen running (one write a pass).
        var running = instances.Where(i => i.State == InstanceState.Running).Select(i => i.InstanceId).ToList();
        if (running.Count > 0)
        {
            await store.MarkSeenRunningAsync(running, now, cancellationToken);
        }

        var listed = instances.Select(i => i.InstanceId).ToHashSet(StringComparer.Ordinal);
        // DescribeInstances may not list an instance for a few seconds after RunInstances returned it.
        var settled = now - ListingLag;
        foreach (var gone in (await store.OpenSessionsAsync(cancellationToken)).Where(s => s.Box == box && !listed.Contains(s.InstanceId) && s.Start < settled))
        {
            // EC2 lists a terminated instance for about an hour: this one ended while nobody watched.
            await CloseSessionAsync(gone, o, null, now, cancellationToken);
        }
    }

    private async Task<SessionRow> OpenSessionAsync(string box, BoxOptions o, BoxInstance instance, decimal? price, CancellationToken cancellationToken)
    {
        if (await store.GetSessionAsync(instance.InstanceId, cancellationToken) is { } known)
        {
            return known;
        }

        var row = new SessionRow(
            box,
            instance.InstanceId,
            instance.SessionId,
            o.Region,
            instance.Owner ?? o.Owner,
            instance.InstanceType,
            instance.AvailabilityZone,
            instance.Lifecycle,
            instance.Lifecycle == InstanceLifecycle.Spot ? price : null,
            instance.LaunchTime);
        await store.UpsertSessionAsync(row, cancellationToken);
        await RecordAsync(
            new BoxDecision(
                box,
                ReconcileActions.SessionStarted,
                $"session of {instance.InstanceId} since {instance.LaunchTime.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC: {instance.InstanceType} in {instance.AvailabilityZone}, {Market(instance.Lifecycle)}{(row.PricePerHour is { } p ? $" at {Usd.PerHour(p)}" : "")}",
                instance.InstanceId),
            cancellationToken);
        return row;
    }

    private async Task CloseSessionAsync(SessionRow row, BoxOptions o, BoxInstance? instance, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // The box writes these records, so they are taken only within what EC2 reports (BoxRecordBounds).
        var bounds = BoxRecordBounds.Of(row, instance, now);
        var record = Accepted(bounds, await FindAsync(() => documents.FindSessionRecordAsync(o.Storage, row.InstanceId, cancellationToken)), bounds.Check);
        var notice = Accepted(bounds, await FindAsync(() => documents.FindInterruptionAsync(o.Storage, row.InstanceId, cancellationToken)), bounds.Check);
        string endedBy;
        string? detail = instance?.StateReason is { } r ? $"{r.Code}: {r.Message}" : null;
        if (instance?.StateReason?.IsSpotInterruption == true || notice is not null)
        {
            endedBy = SessionEndings.Interruption;
            detail ??= notice is { } n ? $"spot notice '{n.Action}' for {n.NoticeTime.UtcDateTime:HH:mm:ss} UTC" : null;
        }
        else if (_apiStopped.ContainsKey(row.InstanceId))
        {
            endedBy = SessionEndings.ApiStop;
        }
        else if (record is not null && record.EndedBy != SessionEnd.Interruption)
        {
            endedBy = SessionEndings.Of(record.EndedBy);
            detail = record.Detail ?? detail;
        }
        else
        {
            if (record is not null)
            {
                // An interruption is EC2's word (its state reason) or a notice within the instance's life, never the
                // session record's alone: the ledger charges nothing for an interrupted spot instance's first hour.
                LogUntrustedRecord(logger, row.Box, BoxRecordBounds.SessionRecordName(row.InstanceId), "it says the session ended by a spot interruption, which neither EC2's state reason nor an accepted interruption record shows", bounds.Describe());
                record = null;
            }

            endedBy = instance?.StateReason?.Code switch
            {
                StateReasonCodes.InstanceInitiatedShutdown => SessionEndings.InstanceShutdown,
                StateReasonCodes.UserInitiatedShutdown => SessionEndings.TerminatedByUser,
                _ => SessionEndings.Unknown,
            };
        }

        var (end, latestEnd) = EndOf(row, instance, record, notice, row.LastSeenRunning, now);
        var closed = row with { End = end, EndedBy = endedBy, EndDetail = detail, LatestEnd = latestEnd };
        await store.UpsertSessionAsync(closed, cancellationToken);
        try
        {
            await costs.RecordAsync(closed, o, cancellationToken);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ComputeException or InvalidOperationException)
        {
            // The session stays recorded; its cost can be computed again (savings recompute) while the price history lasts.
            LogCostNotRecorded(logger, row.Box, row.InstanceId, e.Message);
        }

        await RecordAsync(
            new BoxDecision(
                row.Box,
                ReconcileActions.SessionEnded,
                latestEnd is { } latest
                    ? $"session of {row.InstanceId} ended between {end.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC (last known running, after {Span(end - row.Start)}) and {latest.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC: nobody knows when any more, costed up to the first, the rest unknown: {endedBy}{(detail is null ? "" : $" ({detail})")}"
                    : $"session of {row.InstanceId} ended at {end.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC after {Span(end - row.Start)}: {endedBy}{(detail is null ? "" : $" ({detail})")}",
                row.InstanceId),
            cancellationToken);
    }

    /// <summary>
    /// When a session ended, however late the controller looks: EC2's state transition time while EC2 still
    /// lists the instance (when its billing ended), else the agent's session record (when it powered off), else
    /// the time its spot notice said EC2 would act. None of them is taken before the session was last known to
    /// run (seen running by a pass, or the agent seeing the notice). With none known, the end is that last known
    /// instant and <c>LatestEnd</c> is <paramref name="now"/>, when it was found ended: the rest is unknown.
    /// </summary>
    internal static (DateTimeOffset End, DateTimeOffset? LatestEnd) EndOf(
        SessionRow row,
        BoxInstance? instance,
        SessionRecord? record,
        InterruptionRecord? notice,
        DateTimeOffset? lastSeenRunning,
        DateTimeOffset now)
    {
        var knownRunning = row.Start;
        foreach (var running in new[] { lastSeenRunning, notice?.SeenAt })
        {
            if (running is { } r && r > knownRunning && r <= now)
            {
                knownRunning = r;
            }
        }

        var reported = instance?.StateTransitionTime
            ?? record?.End
            ?? (notice is { } n && n.NoticeTime <= now ? n.NoticeTime : null);
        if (reported is not { } end)
        {
            return (knownRunning, now);
        }

        return (end < knownRunning ? knownRunning : end > now ? now : end, null);
    }

    /// <summary>
    /// Raises the box's rollback floor to the snapshot its status reports, when the status is within the bounds of
    /// an instance of this box (<see cref="BoxRecordBounds.Check(AgentStatus)"/>: a snapshot dated in the future would
    /// make every later boot refuse), and copies a raised floor into <c>control.json</c>, which the box cannot write,
    /// for <c>up</c> on a machine without this database. Returns the control document as it now is.
    /// </summary>
    private async Task<ControlDocument?> RecordSnapshotFloorAsync(
        string box, BoxOptions o, AgentStatus? status, ControlDocument? control, IReadOnlyList<BoxInstance> instances, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var floor = await store.GetSnapshotFloorAsync(box, cancellationToken);
        if (status is { LastSnapshotId: { Length: > 0 } id, LastSnapshotTime: { } at, InstanceId: { } instanceId }
            && (floor is null || at > floor.Time)
            && await store.GetSessionAsync(instanceId, cancellationToken) is { } row
            && row.Box == box)
        {
            var bounds = BoxRecordBounds.Of(row, instances.FirstOrDefault(i => i.InstanceId == instanceId), now);
            if (bounds.Check(status) is { } problem)
            {
                LogUntrustedStatus(logger, box, problem, bounds.Describe());
            }
            else
            {
                floor = await store.RaiseSnapshotFloorAsync(box, new SnapshotFloor(id, at), cancellationToken);
                LogFloorRaised(logger, box, floor.Id, floor.Time);
            }
        }

        if (floor is null || SnapshotFloor.Raise(control?.SnapshotFloor, floor) == control?.SnapshotFloor)
        {
            return control;
        }

        // Not UpdatedAt: that stays the time a person or a stop last changed the document.
        var updated = (control ?? new ControlDocument()) with { SnapshotFloor = floor };
        await documents.WriteControlAsync(o.Storage, updated, cancellationToken);
        return updated;
    }

    /// <summary>The record when it is within <paramref name="bounds"/>; else null, and a security event naming the record and the bound.</summary>
    private T? Accepted<T>(BoxRecordBounds bounds, T? record, Func<T, string?> check)
        where T : class
    {
        if (record is null || check(record) is not { } problem)
        {
            return record;
        }

        LogUntrustedRecord(logger, bounds.Box, BoxRecordBounds.NameOf(record, bounds.InstanceId), problem, bounds.Describe());
        return null;
    }

    private async Task<decimal?> PriceAtStartAsync(IComputeGateway gateway, BoxInstance instance, CancellationToken cancellationToken)
    {
        if (instance.Lifecycle != InstanceLifecycle.Spot)
        {
            return null;
        }

        try
        {
            var history = await gateway.DescribeSpotPricesAsync(
                new SpotPriceQuery([instance.InstanceType], SpotPriceQuery.LinuxUnix, instance.LaunchTime, instance.LaunchTime, [instance.AvailabilityZone]),
                cancellationToken);
            return history.Points
                .Where(p => p.InstanceType == instance.InstanceType && p.AvailabilityZone == instance.AvailabilityZone && p.Timestamp <= instance.LaunchTime)
                .MaxBy(p => p.Timestamp)?.UsdPerHour;
        }
        catch (ComputeException e)
        {
            LogPriceUnknown(logger, instance.InstanceId, e.Message);
            return null;
        }
    }

    private async Task ApiStopAsync(IComputeGateway gateway, string instanceId, CancellationToken cancellationToken)
    {
        _apiStopped[instanceId] = 0;
        await gateway.TerminateAsync(instanceId, cancellationToken);
    }

    private async Task<ControlDocument?> ReadControlAsync(string box, BoxOptions o, CancellationToken cancellationToken)
    {
        try
        {
            return await documents.ReadControlAsync(o.Storage, cancellationToken);
        }
        catch (InvalidDataException e)
        {
            // A broken control.json must not block the schedule: the next write replaces it.
            LogDocumentUnreadable(logger, box, "control.json", e.Message);
            return null;
        }
    }

    /// <summary>
    /// The box's budget override: only the operator-only document counts (<see cref="BudgetOverride"/>). One still
    /// found in control.json, which the box's owner (and, before the policies of issue 12, the box) can write, is
    /// ignored, and said so once per box and process (event 5131).
    /// </summary>
    private async Task<BudgetOverride?> ReadBudgetOverrideAsync(string box, BoxOptions o, CancellationToken cancellationToken)
    {
        try
        {
            return await documents.ReadBudgetOverrideAsync(o.Storage, o.Owner, box, cancellationToken);
        }
        catch (Exception e) when (e is InvalidDataException or UnauthorizedAccessException)
        {
            // Unreadable or refused: no override, the safe side (the budget holds).
            LogDocumentUnreadable(logger, box, "the budget override", e.Message);
            return null;
        }
    }

    private async Task<AgentStatus?> ReadStatusAsync(string box, BoxOptions o, CancellationToken cancellationToken)
    {
        try
        {
            return await documents.ReadStatusAsync(o.Storage, cancellationToken);
        }
        catch (InvalidDataException e)
        {
            LogDocumentUnreadable(logger, box, "status.json", e.Message);
            return null;
        }
    }

    private async Task<T?> FindAsync<T>(Func<Task<T?>> find)
        where T : class
    {
        try
        {
            return await find();
        }
        catch (InvalidDataException e)
        {
            LogDocumentUnreadable(logger, "-", typeof(T).Name, e.Message);
            return null;
        }
    }

    /// <summary>Logs every decision; stores it and logs it at Information when it acts or its reason changed.</summary>
    private async Task RecordAsync(BoxDecision decision, CancellationToken cancellationToken)
    {
        var key = decision.Action switch
        {
            ReconcileActions.SessionStarted or ReconcileActions.SessionEnded or ReconcileActions.InstanceState => null,
            ReconcileActions.BudgetWarning => decision.Box + ":budget:" + decision.Signature,
            ReconcileActions.ForeignInstance => decision.Box + ":foreign:" + decision.InstanceId,
            _ => decision.Box,
        };
        var signature = decision.Action + "|" + (decision.Signature ?? decision.Reason);
        var changed = key is null || !_lastLogged.TryGetValue(key, out var was) || was != signature;
        if (key is not null)
        {
            _lastLogged[key] = signature;
        }

        if (!changed)
        {
            LogDecisionRepeated(logger, decision.Box, decision.Action, decision.Reason);
            return;
        }

        if (decision.Action is ReconcileActions.ForeignInstance)
        {
            LogForeignInstance(logger, decision.Box, decision.InstanceId ?? "-", decision.Signature ?? "none", decision.Reason);
        }
        else if (decision.Action is ReconcileActions.LaunchFailed or ReconcileActions.AddressFailed or ReconcileActions.BudgetWarning or ReconcileActions.BudgetExceeded or ReconcileActions.ApiStop or ReconcileActions.TerminateDuplicate or ReconcileActions.Unreachable)
        {
            LogDecisionWarning(logger, decision.Box, decision.Action, decision.Reason);
        }
        else
        {
            LogDecision(logger, decision.Box, decision.Action, decision.Reason);
        }

        // A decision about an instance concerns its session: the one the store opened for it (its session tag).
        var session = decision.SessionId
            ?? (decision.InstanceId is { } instanceId ? (await store.GetSessionAsync(instanceId, cancellationToken))?.SessionId : null);
        await store.RecordDecisionAsync(
            new DecisionRow(time.GetUtcNow(), decision.Box, decision.Action, decision.Reason, decision.InstanceId, session),
            cancellationToken);
    }

    public void Dispose()
    {
        _startGate.Dispose();
        foreach (var gate in _boxGates.Values)
        {
            gate.Dispose();
        }
    }

    /// <summary>A new session's id: its start in UTC and a random part, e.g. <c>20261127T083000Z-3f9a1c</c>.</summary>
    public static string NewSessionId(DateTimeOffset now) =>
        string.Create(CultureInfo.InvariantCulture, $"{now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3))}");

    private static string Name(InstanceState state) => state switch
    {
        InstanceState.ShuttingDown => "shutting-down",
        _ => state.ToString().ToLowerInvariant(),
    };

    private static string Market(InstanceLifecycle lifecycle) => lifecycle == InstanceLifecycle.Spot ? "spot" : "on-demand";

    internal static string Span(TimeSpan span)
    {
        if (span < TimeSpan.Zero)
        {
            span = TimeSpan.Zero;
        }

        return span.TotalHours >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours}h{span.Minutes:00}m")
            : span.TotalMinutes >= 1
                ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalMinutes}m{span.Seconds:00}s")
                : string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalSeconds}s");
    }

    [LoggerMessage(EventId = 5100, Level = LogLevel.Information, Message = "Controller reconciling {BoxCount} boxes; it last ran at {PreviousRun}")]
    private static partial void LogStarted(ILogger logger, int boxCount, string previousRun);

    [LoggerMessage(EventId = 5101, Level = LogLevel.Information, Message = "Box {Box}: {Action}: {Reason}")]
    private static partial void LogDecision(ILogger logger, string box, string action, string reason);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Warning, Message = "Box {Box}: {Action}: {Reason}")]
    private static partial void LogDecisionWarning(ILogger logger, string box, string action, string reason);

    [LoggerMessage(EventId = 5103, Level = LogLevel.Debug, Message = "Box {Box}: {Action} (unchanged): {Reason}")]
    private static partial void LogDecisionRepeated(ILogger logger, string box, string action, string reason);

    [LoggerMessage(EventId = 5104, Level = LogLevel.Error, Message = "EC2 in {Region} could not be asked for the boxes' instances ({Failure}); its boxes wait for the next pass: {Reason}")]
    private static partial void LogRegionUnreachable(ILogger logger, string region, string failure, string reason);

    [LoggerMessage(EventId = 5105, Level = LogLevel.Warning, Message = "Box {Box}: terminated duplicate instance {InstanceId}, keeping {Kept}")]
    private static partial void LogDuplicateTerminated(ILogger logger, string box, string instanceId, string kept);

    [LoggerMessage(EventId = 5106, Level = LogLevel.Warning, Message = "The spot price in effect at the start of {InstanceId} is unknown: {Reason}")]
    private static partial void LogPriceUnknown(ILogger logger, string instanceId, string reason);

    [LoggerMessage(EventId = 5108, Level = LogLevel.Error, Message = "Box {Box}: the cost of {InstanceId}'s session could not be recorded: {Reason}")]
    private static partial void LogCostNotRecorded(ILogger logger, string box, string instanceId, string reason);

    [LoggerMessage(EventId = 5109, Level = LogLevel.Error, Message = "Security: box {Box}: instance {InstanceId} carries the box's tag with instance profile {InstanceProfile}, not the box's; left alone: {Reason}")]
    private static partial void LogForeignInstance(ILogger logger, string box, string instanceId, string instanceProfile, string reason);

    [LoggerMessage(EventId = 5111, Level = LogLevel.Warning, Message = "No box can be launched: {Problem}; boxes already running are still stopped on schedule")]
    private static partial void LogNoRepositoryKey(ILogger logger, string problem);

    [LoggerMessage(EventId = 5110, Level = LogLevel.Warning, Message = "Box {Box} has no InstanceProfile: any instance without a profile that carries its tag is taken as the box's; configure the box's own profile so a tagged instance someone else launched is not adopted")]
    private static partial void LogNoInstanceProfile(ILogger logger, string box);

    [LoggerMessage(EventId = 5130, Level = LogLevel.Warning, Message = "Security: box {Box}: {Record} ignored: {Problem}; the ledger uses only what EC2 reports ({Bound})")]
    private static partial void LogUntrustedRecord(ILogger logger, string box, string record, string problem, string bound);

    [LoggerMessage(EventId = 5132, Level = LogLevel.Warning, Message = "Security: box {Box}: the last snapshot in status.json is not taken as the rollback floor: {Problem} ({Bound})")]
    private static partial void LogUntrustedStatus(ILogger logger, string box, string problem, string bound);

    [LoggerMessage(EventId = 5133, Level = LogLevel.Information, Message = "Box {Box}: rollback floor raised to snapshot {SnapshotId} of {Time}; the next launch refuses to restore anything older")]
    private static partial void LogFloorRaised(ILogger logger, string box, string snapshotId, DateTimeOffset time);

    [LoggerMessage(EventId = 5131, Level = LogLevel.Warning, Message = "Box {Box}: the budget override in control.json is ignored: overrides are granted by an operator and live in {Location} ('spotdevbox up BOX --over-budget' writes one, with the operator's right)")]
    private static partial void LogControlOverrideIgnored(ILogger logger, string box, string location);

    [LoggerMessage(EventId = 5107, Level = LogLevel.Warning, Message = "Box {Box}: {Document} could not be read, going on without it: {Reason}")]
    private static partial void LogDocumentUnreadable(ILogger logger, string box, string document, string reason);
}
