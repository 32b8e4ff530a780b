using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Controller;
using SpotDevBox.Core.Launch;
using SpotDevBox.Core.Savings;
using SpotDevBox.Core.Schedules;

namespace SpotDevBox.Core.Tests.Controller;

/// <summary>
/// The decision table of docs/controller.md ("The decisions") on plain values: no EC2, store or documents, so
/// each rule is reached directly. The box "alice" is up Mon-Fri 08:30-19:00 Europe/Berlin; on Fri 2026-11-27
/// that is 07:30-18:00 UTC; "now" is 09:00 UTC inside the window, 18:30 UTC after it.
/// </summary>
public sealed class BoxDeciderTests
{
    private const string Box = "alice";
    private const string Instance = "i-0aaa";
    private static readonly DateTimeOffset WindowStart = new(2026, 11, 27, 7, 30, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset WindowEnd = new(2026, 11, 27, 18, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Inside = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset After = new(2026, 11, 27, 18, 30, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset NextMonday = new(2026, 11, 30, 7, 30, 0, TimeSpan.Zero);

    private static readonly ScheduleDecision Up =
        new(true, DecisionSource.Period, "inside Mon-Fri 08:30-19:00 (Europe/Berlin)", null, null, WindowStart, WindowEnd, WindowEnd);

    private static readonly ScheduleDecision Down =
        new(false, DecisionSource.Outside, "outside every period", null, null, null, null, NextMonday);

    [Fact]
    public void Decide_TwoLiveInstances_KeepsTheOldestTerminatesTheOther()
    {
        var older = Running("i-0bbb", WindowStart.AddMinutes(1));
        var newer = Running("i-0aaa", WindowStart.AddMinutes(2));
        var ended = Running("i-0000", WindowStart) with { State = InstanceState.Terminated };

        var plan = BoxDecider.Decide(Situation(Up, Inside, BoxDecider.Live([newer, ended, older])));

        Assert.Equal(ReconcileActions.TerminateDuplicate, plan.Decision!.Action);
        Assert.Equal("i-0bbb", plan.Decision.InstanceId);
        Assert.Equal(["i-0aaa"], plan.TerminateDuplicates);
        Assert.Null(plan.WriteState);
    }

    [Fact]
    public void Decide_TwoLiveInstancesLaunchedTheSameSecond_KeepsTheFirstById()
    {
        var plan = BoxDecider.Decide(Situation(Up, Inside, BoxDecider.Live([Running("i-0ccc", WindowStart), Running("i-0aaa", WindowStart)])));

        Assert.Equal("i-0aaa", plan.Decision!.InstanceId);
        Assert.Equal(["i-0ccc"], plan.TerminateDuplicates);
    }

    [Fact]
    public void Decide_UpAgainWhileTheControllersStopIsPending_WithdrawsItFromControlJsonAndTheState()
    {
        var state = new BoxStateRow(Box, StopRequestedAt: Inside.AddMinutes(-5), StopInstanceId: Instance, StopReason: "schedule");
        var control = new ControlDocument { StopAt = Inside.AddMinutes(-5), StopReason = "schedule", StopInstanceId = Instance, RequestedBy = "controller: outside" };

        var plan = BoxDecider.Decide(Situation(Up, Inside, [Running(Instance, WindowStart)]) with { State = state, Control = control });

        Assert.Equal(ReconcileActions.WithdrawStop, plan.Decision!.Action);
        Assert.Equal(new ControlDocument { UpdatedAt = Inside }, plan.WriteControl);
        Assert.Equal(new BoxStateRow(Box), plan.WriteState);
        Assert.Null(plan.AssociateAddress);
    }

    [Fact]
    public void Decide_UpAgainWhileAPersonsStopIsInControlJson_LeavesControlJsonAlone()
    {
        var state = new BoxStateRow(Box, StopRequestedAt: Inside.AddMinutes(-5), StopInstanceId: Instance, StopReason: "schedule");
        var control = new ControlDocument { StopAt = Inside.AddMinutes(-1), StopReason = "manual", StopInstanceId = Instance };

        var plan = BoxDecider.Decide(Situation(Up, Inside, [Running(Instance, WindowStart)]) with { State = state, Control = control });

        Assert.Equal(ReconcileActions.WithdrawStop, plan.Decision!.Action);
        Assert.Null(plan.WriteControl);
        Assert.Equal(new BoxStateRow(Box), plan.WriteState);
    }

    [Theory]
    [InlineData(InstanceState.Running, false, ReconcileActions.AssociateAddress)]
    [InlineData(InstanceState.Running, true, ReconcileActions.None)]
    [InlineData(InstanceState.Pending, false, ReconcileActions.None)]
    public void Decide_UpWithAnElasticIp_PutOnceOnARunningInstanceAndLaunchBackoffCleared(InstanceState instanceState, bool alreadyOn, string expected)
    {
        var options = Options();
        options.ElasticIp = "eipalloc-0123456789abcdef0";
        var state = new BoxStateRow(Box, PendingSessionId: "20261127T073000Z-0a1b2c", NextLaunchAttemptAt: Inside.AddMinutes(-1), LaunchFailures: 2);
        var instance = Running(Instance, WindowStart) with { State = instanceState };

        var plan = BoxDecider.Decide(Situation(Up, Inside, [instance]) with { Options = options, State = state, AddressOnLive = alreadyOn });

        Assert.Equal(expected, plan.AssociateAddress is null ? plan.Decision!.Action : ReconcileActions.AssociateAddress);
        Assert.Equal(expected == ReconcileActions.AssociateAddress ? new AddressIntent(Instance, WindowEnd) : null, plan.AssociateAddress);
        Assert.Equal(new BoxStateRow(Box), plan.WriteState);
    }

    [Fact]
    public void Decide_UpAndRunningWithNothingToClear_WritesNothing()
    {
        var plan = BoxDecider.Decide(Situation(Up, Inside, [Running(Instance, WindowStart)]));

        Assert.Equal(ReconcileActions.None, plan.Decision!.Action);
        Assert.Equal($"up: {Instance} is running; inside Mon-Fri 08:30-19:00 (Europe/Berlin)", plan.Decision.Reason);
        Assert.Equal((null, null, null, null), (plan.WriteState, plan.WriteControl, plan.ApiStop, plan.Launch));
    }

    [Theory]
    [InlineData(DecisionSource.Outside, "schedule")]
    [InlineData(DecisionSource.Override, "override")]
    public void Decide_DownWithALiveInstance_AsksItsAgentToStopThroughControlJson(DecisionSource source, string stateReason)
    {
        var lease = Inside.AddHours(-1);
        var control = new ControlDocument { LeaseUntil = lease, LeaseSetBy = "alice" };

        var plan = BoxDecider.Decide(Situation(Down with { Source = source }, After, [Running(Instance, WindowStart)]) with { Control = control });

        Assert.Equal(ReconcileActions.RequestStop, plan.Decision!.Action);
        Assert.Equal(
            new ControlDocument { LeaseUntil = lease, LeaseSetBy = "alice", StopAt = After, StopReason = "schedule", StopInstanceId = Instance, RequestedBy = "controller: outside every period", UpdatedAt = After },
            plan.WriteControl);
        Assert.Equal(new BoxStateRow(Box, StopRequestedAt: After, StopInstanceId: Instance, StopReason: stateReason), plan.WriteState);
        Assert.Null(plan.ApiStop);
    }

    /// <summary>Reconcile:StopGrace 10 min, AgentStaleAfter 12 min, StopHardLimit 3 h (the defaults).</summary>
    [Theory]
    [InlineData(null, null, 0, 9 * 60, ReconcileActions.WaitForAgent)]
    [InlineData(null, null, 0, 10 * 60, ReconcileActions.ApiStop)]
    [InlineData(Instance, AgentState.Running, 1, 10 * 60, ReconcileActions.WaitForAgent)]
    [InlineData(Instance, AgentState.Running, 1, (3 * 60 * 60) - 1, ReconcileActions.WaitForAgent)]
    [InlineData(Instance, AgentState.Running, 1, 3 * 60 * 60, ReconcileActions.ApiStop)]
    [InlineData(Instance, AgentState.Running, 13, 10 * 60, ReconcileActions.ApiStop)]
    [InlineData(Instance, AgentState.Stopped, 1, 10 * 60, ReconcileActions.ApiStop)]
    [InlineData(Instance, AgentState.RestoreFailed, 1, 10 * 60, ReconcileActions.ApiStop)]
    [InlineData("i-0other", AgentState.Running, 1, 10 * 60, ReconcileActions.ApiStop)]
    public void Decide_DownAndAskedToStop_TerminatesThroughTheApiOnlyPastTheGraceWithoutALiveAgentOrPastTheHardLimit(
        string? statusInstance, AgentState? agentState, int statusMinutesOld, int askedSecondsAgo, string expected)
    {
        var state = new BoxStateRow(Box, StopRequestedAt: After.AddSeconds(-askedSecondsAgo), StopInstanceId: Instance, StopReason: "schedule");
        var status = agentState is { } s
            ? new AgentStatus { Box = Box, State = s, UpdatedAt = After.AddMinutes(-statusMinutesOld), AgentVersion = "1.0.0", InstanceId = statusInstance, SessionStart = WindowStart }
            : null;

        var plan = BoxDecider.Decide(Situation(Down, After, [Running(Instance, WindowStart)]) with { State = state, Status = status });

        Assert.Equal(expected, plan.Decision!.Action);
        Assert.Equal(expected == ReconcileActions.ApiStop ? Instance : null, plan.ApiStop);
        Assert.Equal((null, null), (plan.WriteControl, plan.WriteState));
    }

    [Fact]
    public void Decide_DownNothingLiveAndAStopPendingForTheGoneInstance_ClearsTheStop()
    {
        var state = new BoxStateRow(Box, StopRequestedAt: After.AddMinutes(-20), StopInstanceId: Instance, StopReason: "schedule", LaunchFailures: 1);

        var plan = BoxDecider.Decide(Situation(Down, After, []) with { State = state });

        Assert.Equal((ReconcileActions.None, "down and not running: outside every period"), (plan.Decision!.Action, plan.Decision.Reason));
        Assert.Equal(new BoxStateRow(Box, LaunchFailures: 1), plan.WriteState);
    }

    [Fact]
    public void Decide_UpNothingLiveAndAStopPendingForTheGoneInstance_LaunchesFromTheClearedState()
    {
        var state = new BoxStateRow(Box, StopRequestedAt: Inside.AddMinutes(-20), StopInstanceId: Instance, StopReason: "override", PendingSessionId: "20261127T073000Z-0a1b2c");

        var plan = BoxDecider.Decide(Situation(Up, Inside, []) with { State = state });

        var cleared = new BoxStateRow(Box, PendingSessionId: "20261127T073000Z-0a1b2c");
        Assert.Equal(cleared, plan.WriteState);
        Assert.Equal(new LaunchIntent(ReconcileActions.Launch, "start: inside Mon-Fri 08:30-19:00 (Europe/Berlin)", null, cleared, WindowEnd), plan.Launch);
    }

    [Fact]
    public void Decide_UpNothingListedButASessionOpenedInThePeriod_WaitsForEc2ToListIt()
    {
        var plan = BoxDecider.Decide(Situation(Up, Inside, []) with { LastSession = Session(WindowStart.AddMinutes(1)) });

        Assert.Equal((ReconcileActions.None, Instance), (plan.Decision!.Action, plan.Decision.InstanceId));
        Assert.Equal($"{Instance} was launched at 07:31:00 UTC and EC2 does not list it yet: waiting", plan.Decision.Reason);
        Assert.Null(plan.Launch);
    }

    [Fact]
    public void Decide_UpAndThePeriodsSessionWasInterrupted_RelaunchesAwayFromItsPool()
    {
        var last = Session(WindowStart.AddMinutes(1)) with { End = Inside.AddMinutes(-10), EndedBy = SessionEndings.Interruption };

        var plan = BoxDecider.Decide(Situation(Up, Inside, []) with { LastSession = last });

        Assert.Equal(ReconcileActions.Relaunch, plan.Launch!.Action);
        Assert.Equal(new InterruptedPlacement("m6i.large", "eu-central-1a"), plan.Launch.Interrupted);
        Assert.StartsWith($"{Instance} was interrupted by EC2 inside the window", plan.Launch.Why, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_UpAndOnlyTheAgentSaysItWasInterruptedInThePeriod_RelaunchesAwayFromTheAgentsPool()
    {
        var status = new AgentStatus
        {
            Box = Box, State = AgentState.Interrupted, UpdatedAt = Inside.AddMinutes(-10), AgentVersion = "1.0.0",
            InstanceId = "i-0gone", InstanceType = "m7i.large", AvailabilityZone = "eu-central-1b", SessionStart = WindowStart.AddMinutes(3),
        };

        var plan = BoxDecider.Decide(Situation(Up, Inside, []) with { Status = status });

        Assert.Equal((ReconcileActions.Relaunch, new InterruptedPlacement("m7i.large", "eu-central-1b")), (plan.Launch!.Action, plan.Launch.Interrupted));
        Assert.StartsWith("i-0gone was interrupted", plan.Launch.Why, StringComparison.Ordinal);
    }

    /// <summary>A session that began up to 2 minutes before the window (clock skew) is the window's; 3 minutes before is the previous period's.</summary>
    [Theory]
    [InlineData(-2, false)]
    [InlineData(-3, true)]
    public void Decide_UpAndASessionThatEndedIdleBeganJustBeforeTheWindow_CountsForTheWindowWithinTheSkew(int minutesBeforeWindow, bool launches)
    {
        var last = Session(WindowStart.AddMinutes(minutesBeforeWindow)) with { End = WindowStart.AddMinutes(40), EndedBy = "idle" };

        var plan = BoxDecider.Decide(Situation(Up, Inside, []) with { LastSession = last });

        Assert.Equal(launches, plan.Launch is not null);
        if (!launches)
        {
            Assert.Equal(ReconcileActions.None, plan.Decision!.Action);
            Assert.Equal(
                "up-period (inside Mon-Fri 08:30-19:00 (Europe/Berlin)), but the box's session in it ended at Fri 09:10 (idle) without an interruption: not relaunched; 'spotdevbox up alice' starts it again",
                plan.Decision.Reason);
        }
    }

    [Theory]
    [InlineData(false, ReconcileActions.BudgetExceeded)]
    [InlineData(true, ReconcileActions.Launch)]
    public void Decide_UpWithTheBudgetSpent_LaunchesOnlyWithTheOperatorsOverride(bool overrideAllows, string expected)
    {
        var spent = new BudgetVerdict(false, [], "box alice spent $50.00 of its $50.00 monthly budget");

        var plan = BoxDecider.Decide(Situation(Up, Inside, []) with { Budget = spent, OverBudgetAllowed = overrideAllows });

        Assert.Equal(expected, plan.Launch?.Action ?? plan.Decision!.Action);
        if (!overrideAllows)
        {
            Assert.Equal("start: inside Mon-Fri 08:30-19:00 (Europe/Berlin); not launched: box alice spent $50.00 of its $50.00 monthly budget", plan.Decision!.Reason);
        }
    }

    [Fact]
    public void Decide_UpWhileFailedLaunchesBackOff_DefersUntilTheNextAttempt()
    {
        var state = new BoxStateRow(Box, NextLaunchAttemptAt: Inside.AddMinutes(1), LaunchFailures: 2);

        var plan = BoxDecider.Decide(Situation(Up, Inside, []) with { State = state });

        Assert.Equal(ReconcileActions.LaunchDeferred, plan.Decision!.Action);
        Assert.Equal("start: inside Mon-Fri 08:30-19:00 (Europe/Berlin); 2 launch(es) failed in a row, next attempt at 09:01:00 UTC", plan.Decision.Reason);
        Assert.Null(plan.Launch);
    }

    [Fact]
    public void Decide_UpOnceTheBackOffIsOver_LaunchesKeepingTheFailuresSoFar()
    {
        var state = new BoxStateRow(Box, NextLaunchAttemptAt: Inside, LaunchFailures: 2);

        var plan = BoxDecider.Decide(Situation(Up, Inside, []) with { State = state });

        Assert.Equal(state, plan.Launch!.State);
    }

    /// <summary>The controller started at 09:00 with no record of an earlier pass: the 08:30 (Berlin) start was missed.</summary>
    [Theory]
    [InlineData(true, ReconcileActions.Launch)]
    [InlineData(false, ReconcileActions.SkipMissedStart)]
    public void Decide_UpAfterTheControllerMissedTheStart_AsTheMissedStartPolicySays(bool enforce, string expected)
    {
        var options = Options();
        options.Schedule.EnforceMissedStarts = enforce;

        var plan = BoxDecider.Decide(Situation(Up, Inside, []) with { Options = options, StartedAt = Inside, PreviousRun = null });

        Assert.Equal(expected, plan.Launch?.Action ?? plan.Decision!.Action);
        var reason = plan.Launch?.Why ?? plan.Decision!.Reason;
        Assert.Contains("no record of the controller running", reason, StringComparison.Ordinal);
    }

    /// <summary>This process started at 09:00, but a pass ran at 08:30:30 (Berlin): no start was missed.</summary>
    [Fact]
    public void Decide_UpWhenAPassRanSinceTheStart_LaunchesOnTheSchedulesWordNotTheMissedStartPolicy()
    {
        var options = Options();
        options.Schedule.EnforceMissedStarts = false;

        var plan = BoxDecider.Decide(Situation(Up, Inside, []) with { Options = options, StartedAt = Inside, PreviousRun = WindowStart.AddSeconds(30) });

        Assert.Equal("start: inside Mon-Fri 08:30-19:00 (Europe/Berlin)", plan.Launch!.Why);
    }

    private static BoxSituation Situation(ScheduleDecision wanted, DateTimeOffset now, IReadOnlyList<BoxInstance> live)
    {
        var options = Options();
        return new BoxSituation(
            Box,
            options,
            new ReconcileOptions(),
            now,
            options.Schedule.ToSchedule(),
            [],
            wanted,
            Control: null,
            Status: null,
            live,
            new BoxStateRow(Box),
            LastSession: null,
            BudgetVerdict.NoBudget,
            OverBudgetAllowed: false,
            AddressOnLive: false,
            StartedAt: WindowStart.AddDays(-1),
            PreviousRun: now.AddSeconds(-45));
    }

    private static BoxOptions Options()
    {
        var box = new BoxOptions { Owner = Box, Region = "eu-central-1", Storage = "s3://my-bucket/team/alice/alice" };
        box.Schedule.TimeZone = "Europe/Berlin";
        box.Schedule.Periods.Add("Mon-Fri 08:30-19:00");
        return box;
    }

    private static BoxInstance Running(string id, DateTimeOffset launched) =>
        new(id, Box, Box, null, "m6i.large", "eu-central-1a", InstanceLifecycle.Spot, InstanceState.Running, null, launched, "10.0.0.5", null, null);

    private static SessionRow Session(DateTimeOffset start) =>
        new(Box, Instance, "20261127T073000Z-0a1b2c", "eu-central-1", Box, "m6i.large", "eu-central-1a", InstanceLifecycle.Spot, 0.03m, start);
}
