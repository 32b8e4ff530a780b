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
/// <para>
/// This class runs the passes (one box at a time, a per-box gate, the order of reads and writes); each part is
/// its own class: what the box should be doing (<see cref="BoxDecider"/>, pure), the box's documents within
/// their trust bounds (<see cref="BoxDocumentReader"/>, <see cref="SnapshotFloors"/>), sessions and their costs
/// (<see cref="SessionTracker"/>), launches (<see cref="ReconcileLauncher"/>), other instances with the box's tag
/// (<see cref="Duplicates"/>), the Elastic IP (<see cref="ElasticIps"/>), and the decisions' log and store
/// (<see cref="DecisionRecorder"/>).
/// </para>
/// </summary>
public sealed class Reconciler : IDisposable
{
    private readonly IOptions<ControllerOptions> _options;
    private readonly IComputeGatewayFactory _gateways;
    private readonly IControllerStore _store;
    private readonly IBoxDocuments _documents;
    private readonly IBudgetGuard _budgets;
    private readonly TimeProvider _time;
    private readonly ILogger<Reconciler> _logger;
    private readonly DecisionRecorder _decisions;
    private readonly BoxDocumentReader _reader;
    private readonly SnapshotFloors _floors;
    private readonly SessionTracker _sessions;
    private readonly ReconcileLauncher _launcher;
    private readonly Duplicates _duplicates;
    private readonly ControllerMetrics? _metrics;
    private readonly ILedgerStore? _ledger;
    private readonly ElasticIps _elasticIps = new();
    private readonly IBoxLocks _locks;
    private readonly InProcessBoxLocks? _ownLocks;
    private readonly SemaphoreSlim _startGate = new(1, 1);
    private DateTimeOffset? _previousRun;
    private DateTimeOffset _startedAt;
    private bool _started;

    public Reconciler(
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
        ILogger<Reconciler> logger,
        ControllerMetrics? metrics = null,
        ILedgerStore? ledger = null,
        IBoxLocks? locks = null)
    {
        _options = options;
        _gateways = gateways;
        _store = store;
        _documents = documents;
        _budgets = budgets;
        _time = time;
        _logger = logger;
        _metrics = metrics;
        _ledger = ledger;
        _locks = locks ?? (_ownLocks = new InProcessBoxLocks());
        // Every part logs through this logger: the category operators filter on stays the reconciler's.
        _decisions = new DecisionRecorder(store, time, logger);
        _reader = new BoxDocumentReader(documents, logger);
        _floors = new SnapshotFloors(store, documents, logger);
        _sessions = new SessionTracker(store, _reader, costs, _decisions, logger, metrics);
        _launcher = new ReconcileLauncher(store, userData, launcher, claims, _sessions, logger, metrics);
        _duplicates = new Duplicates(_sessions, logger);
    }

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

            await _store.InitializeAsync(cancellationToken);
            _previousRun = await _store.GetLastRunAsync(cancellationToken);
            _startedAt = _time.GetUtcNow();
            _started = true;
            var previous = _previousRun?.ToString("u", CultureInfo.InvariantCulture) ?? "never (no record)";
            ReconcilerLog.LogStarted(_logger, _options.Value.Boxes.Count, previous);
            if (_options.Value.Boxes.Count > 0 && FleetOptions.MissingRepositoryKey(_options.Value.Fleet) is { } missingKey)
            {
                // A warning, not a refusal to start: boxes launched earlier are still asked to stop on schedule, their
                // interruptions and costs recorded; only launches are refused, each pass saying so per box.
                ReconcilerLog.LogNoRepositoryKey(_logger, missingKey);
            }

            foreach (var (box, _) in _options.Value.Boxes.Where(b => string.IsNullOrWhiteSpace(b.Value.InstanceProfile)).OrderBy(b => b.Key, StringComparer.Ordinal))
            {
                ReconcilerLog.LogNoInstanceProfile(_logger, box);
            }
        }
        finally
        {
            _startGate.Release();
        }
    }

    /// <summary>How many boxes a pass reconciles at once: their documents in S3, the store and EC2 are waited on together.</summary>
    internal const int PassConcurrency = 8;

    /// <summary>
    /// One pass over every box; a region EC2 cannot be asked about is skipped (and said so) until the next pass.
    /// A region's instances are listed with one (paged) call, the month's spending is read once for every budget,
    /// and up to <see cref="PassConcurrency"/> boxes are reconciled at once; the decisions come back in box order.
    /// </summary>
    public async Task<IReadOnlyList<BoxDecision>> ReconcileAllAsync(CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken);
        var began = _time.GetTimestamp();
        var decisions = new List<BoxDecision>();
        BudgetMonth? month;
        try
        {
            month = await _budgets.LoadMonthAsync(_options.Value, cancellationToken);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or TimeoutException)
        {
            month = null; // each box asks again, and is reported unreachable if the store still fails
        }

        foreach (var region in _options.Value.Boxes.GroupBy(b => b.Value.Region, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            IReadOnlyList<BoxInstance> instances;
            try
            {
                instances = await _gateways.ForRegion(region.Key).FindBoxInstancesAsync(null, cancellationToken);
            }
            catch (ComputeException e)
            {
                ReconcilerLog.LogRegionUnreachable(_logger, region.Key, e.Failure.ToString(), e.Message);
                decisions.AddRange(region.Select(b => new BoxDecision(b.Key, ReconcileActions.Unreachable, $"EC2 in {region.Key} could not be asked: {e.Message}")));
                foreach (var (box, boxOptions) in region)
                {
                    PublishUnknown(box, boxOptions);
                }

                continue;
            }

            var byBox = instances.ToLookup(i => i.Box, StringComparer.Ordinal);
            var boxes = region.OrderBy(b => b.Key, StringComparer.Ordinal).ToArray();
            var results = new BoxDecision[boxes.Length];
            await Parallel.ForEachAsync(
                Enumerable.Range(0, boxes.Length),
                new ParallelOptions { MaxDegreeOfParallelism = PassConcurrency, CancellationToken = cancellationToken },
                async (i, ct) => results[i] = await ReconcileBoxAsync(boxes[i].Key, boxes[i].Value, [.. byBox[boxes[i].Key]], month, ct));
            decisions.AddRange(results);
        }

        await _store.SetLastRunAsync(_time.GetUtcNow(), cancellationToken);
        var took = _time.GetElapsedTime(began);
        if (_metrics is not null)
        {
            await PublishCostTodayAsync(_metrics, cancellationToken);
            _metrics.ReconcileDuration(took);
        }

        var seconds = Math.Round(took.TotalSeconds, 3);
        if (took > _options.Value.Reconcile.Interval / 2)
        {
            ReconcilerLog.LogPassSlow(_logger, decisions.Count, seconds, ReconcileText.Span(_options.Value.Reconcile.Interval));
        }
        else
        {
            ReconcilerLog.LogPassTook(_logger, decisions.Count, seconds);
        }

        return decisions;
    }

    /// <summary>
    /// The cost-today gauge: one ledger query a pass (the day's closed sessions), and the open sessions the pass
    /// already read (<see cref="SessionTracker.LastOpenSessions"/>). Without a ledger (tests, CLI verbs) it is not published.
    /// </summary>
    private async Task PublishCostTodayAsync(ControllerMetrics metrics, CancellationToken cancellationToken)
    {
        if (_ledger is null)
        {
            return;
        }

        var now = _time.GetUtcNow();
        var dayStart = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        var entries = await _ledger.QueryAsync(dayStart, dayStart.AddDays(1), null, null, cancellationToken);
        var owners = _options.Value.Boxes.ToDictionary(b => b.Key, b => b.Value.Owner, StringComparer.Ordinal);
        metrics.SetCostToday(ControllerMetrics.CostToday(entries, _sessions.LastOpenSessions, owners, now));
    }

    private void PublishUnknown(string box, BoxOptions o) =>
        _metrics?.SetBox(new ControllerMetrics.BoxGauges(box, o.Owner, o.Region, "unknown"));

    /// <summary>The box's gauges after its pass: its state (pending after a launch), the newest snapshot the controller trusts, the agent's figures within bounds.</summary>
    private void Publish(string box, BoxOptions o, IReadOnlyList<BoxInstance> live, BoxDecision decision, AgentStatus? status, ControlDocument? control)
    {
        if (_metrics is null)
        {
            return;
        }

        var state = decision.Action is ReconcileActions.Launch or ReconcileActions.Relaunch && decision.InstanceId is not null
            ? "pending"
            : live.Count > 0 ? ReconcileText.Name(live[0].State) : "down";
        var (backupSeconds, backupBytes, noticeToDurable) = _reader.AgentFigures(box, status);
        _metrics.SetBox(new ControllerMetrics.BoxGauges(box, o.Owner, o.Region, state, control?.SnapshotFloor?.Time, backupSeconds, backupBytes, noticeToDurable));
    }

    /// <summary>One box now (a schedule trigger fired): its instances are listed with one call.</summary>
    public async Task<BoxDecision> ReconcileBoxAsync(string box, CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken);
        if (!_options.Value.Boxes.TryGetValue(box, out var boxOptions))
        {
            throw new ArgumentException($"there is no box '{box}' in {ControllerOptions.SectionName}:Boxes", nameof(box));
        }

        IReadOnlyList<BoxInstance> instances;
        try
        {
            instances = await _gateways.ForRegion(boxOptions.Region).FindBoxInstancesAsync(box, cancellationToken);
        }
        catch (ComputeException e)
        {
            ReconcilerLog.LogRegionUnreachable(_logger, boxOptions.Region, e.Failure.ToString(), e.Message);
            PublishUnknown(box, boxOptions);
            return new BoxDecision(box, ReconcileActions.Unreachable, $"EC2 in {boxOptions.Region} could not be asked: {e.Message}");
        }

        return await ReconcileBoxAsync(box, boxOptions, instances, month: null, cancellationToken);
    }

    /// <param name="month">the month's spending as the pass read it; null reads it for this box alone.</param>
    private async Task<BoxDecision> ReconcileBoxAsync(string box, BoxOptions o, IReadOnlyList<BoxInstance> instances, BudgetMonth? month, CancellationToken cancellationToken)
    {
        try
        {
            // One controller at a time per box (in a cluster, across processes): a trigger and a pass, or two controllers.
            await using var held = await _locks.AcquireAsync(box, cancellationToken);
            if (held.Waited)
            {
                // Whoever held the box may have launched or stopped an instance since the pass listed them.
                instances = await _gateways.ForRegion(o.Region).FindBoxInstancesAsync(box, cancellationToken);
            }

            // Only the box's own instances (its instance profile) are the box's; the others are reported and left alone.
            foreach (var foreign in Duplicates.Foreign(box, o, instances))
            {
                await _decisions.RecordAsync(foreign, cancellationToken);
            }

            var decision = await DecideAsync(box, o, instances.Owned(o.InstanceProfile), month, cancellationToken);
            await _decisions.RecordAsync(decision, cancellationToken);
            return decision;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ComputeException or UnauthorizedAccessException or TimeoutException or HttpRequestException)
        {
            var failed = new BoxDecision(box, ReconcileActions.Unreachable, $"box {box} not reconciled this pass: {e.Message}");
            PublishUnknown(box, o);
            await _decisions.RecordAsync(failed, cancellationToken);
            return failed;
        }
    }

    private async Task<BoxDecision> DecideAsync(string box, BoxOptions o, IReadOnlyList<BoxInstance> instances, BudgetMonth? month, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var settings = _options.Value.Reconcile;
        var schedule = o.Schedule.ToSchedule();
        var control = await _reader.ReadControlAsync(box, o, cancellationToken);
        IReadOnlyList<ScheduleOverride> overrides = control?.Override?.ToOverride() is { } ov ? [ov] : [];
        var wanted = ScheduleEvaluator.Evaluate(schedule, overrides, now);
        var status = await _reader.ReadStatusAsync(box, o, cancellationToken);
        var gateway = _gateways.ForRegion(o.Region);

        await _sessions.TrackSessionsAsync(box, o, gateway, instances, now, cancellationToken);
        control = await _floors.RecordAsync(box, o, status, control, instances, now, cancellationToken);
        var budget = month?.Check(box) ?? await _budgets.CheckAsync(box, _options.Value, cancellationToken);
        foreach (var warning in budget.Warnings)
        {
            var whose = warning[..Math.Max(0, warning.IndexOf(':', StringComparison.Ordinal))];
            await _decisions.RecordAsync(new BoxDecision(box, ReconcileActions.BudgetWarning, warning, Signature: $"{whose} {(budget.Allowed ? "past 80%" : "spent")}"), cancellationToken);
        }

        _reader.WarnOfControlOverride(box, o, control);

        // The operator's document is read only when the budget is spent: a GET a pass saved for every other box.
        var overBudgetAllowed = !budget.Allowed && (await _reader.ReadBudgetOverrideAsync(box, o, cancellationToken))?.AllowsAt(now) == true;

        var live = BoxDecider.Live(instances);
        var state = await _store.GetBoxStateAsync(box, cancellationToken) ?? new BoxStateRow(box);
        if (state.PendingSessionId is { } pending && instances.Any(i => i.SessionId == pending))
        {
            // The launch whose outcome was unknown (or whose controller died in RunInstances) did start its instance.
            state = state with { PendingSessionId = null };
            await _store.SetBoxStateAsync(state, cancellationToken);
        }

        // The last session matters only to a box that should be up and has nothing live: one query saved for the others.
        var last = live.Count == 0 && wanted.Up ? await _store.LastSessionAsync(box, cancellationToken) : null;
        var plan = BoxDecider.Decide(new BoxSituation(
            box,
            o,
            settings,
            now,
            schedule,
            overrides,
            wanted,
            control,
            status,
            live,
            state,
            last,
            budget,
            overBudgetAllowed,
            AddressOnLive: live.Count == 1 && _elasticIps.IsOn(live[0].InstanceId),
            _startedAt,
            _previousRun));
        // The relaunch latency runs from when the interrupted session ended (EC2's word, or the agent's within it).
        var interruptedAt = last is { EndedBy: SessionEndings.Interruption, End: { } ended } ? ended : (DateTimeOffset?)null;
        var decision = await CarryOutAsync(box, o, plan, gateway, settings, now, interruptedAt, cancellationToken);
        Publish(box, o, live, decision, status, control);
        return decision;
    }

    /// <summary>Does what the plan says, in its order (<see cref="BoxPlan"/>), and returns the decision as it turned out.</summary>
    private async Task<BoxDecision> CarryOutAsync(string box, BoxOptions o, BoxPlan plan, IComputeGateway gateway, ReconcileOptions settings, DateTimeOffset now, DateTimeOffset? interruptedAt, CancellationToken cancellationToken)
    {
        if (plan.TerminateDuplicates.Count > 0)
        {
            await _duplicates.TerminateAsync(gateway, box, plan.Decision!.InstanceId!, plan.TerminateDuplicates, now, cancellationToken);
        }

        if (plan.WriteControl is { } control)
        {
            await _documents.WriteControlAsync(o.Storage, control, cancellationToken);
        }

        if (plan.WriteState is { } state)
        {
            await _store.SetBoxStateAsync(state, cancellationToken);
        }

        if (plan.ApiStop is { } stop)
        {
            await _sessions.StoppedThroughApiAsync(stop, now, cancellationToken);
            await gateway.TerminateAsync(stop, cancellationToken);
        }

        if (plan.AssociateAddress is { } address)
        {
            return await _elasticIps.AssociateAsync(gateway, box, o, address, cancellationToken);
        }

        if (plan.Launch is { } launch)
        {
            return await _launcher.LaunchAsync(box, o, launch, settings, now, cancellationToken, interruptedAt);
        }

        return plan.Decision ?? throw new InvalidOperationException($"box {box}: the decision's plan names no outcome");
    }

    public void Dispose()
    {
        _startGate.Dispose();
        _ownLocks?.Dispose();
    }

    /// <summary>A new session's id: its start in UTC and a random part, e.g. <c>20261127T083000Z-3f9a1c</c>.</summary>
    public static string NewSessionId(DateTimeOffset now) =>
        string.Create(CultureInfo.InvariantCulture, $"{now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3))}");
}
