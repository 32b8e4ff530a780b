using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Moq;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Controller;
using SpotDevBox.Core.Launch;
using SpotDevBox.Core.Savings;
using SpotDevBox.Core.Schedules;
using SpotDevBox.Core.Tests.Launch;

namespace SpotDevBox.Core.Tests.Controller;

/// <summary>
/// Reconcile against a mocked EC2 (the project's gateway port, backed by a list of instances that launches
/// add to and terminations end), an in-memory store and box documents, on fake time. The box "alice" is up
/// Mon-Fri 08:30-19:00 Europe/Berlin; Fri 2026-11-27 08:30 Berlin is 07:30 UTC.
/// </summary>
public sealed partial class ReconcilerTests : IDisposable
{
    private const string Box = "alice";
    private const string Storage = "s3://my-bucket/team/alice/alice";
    private static readonly DateTimeOffset WindowStart = new(2026, 11, 27, 7, 30, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset WindowEnd = new(2026, 11, 27, 18, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(WindowStart);
    private readonly Mock<IComputeGateway> _gateway = new(MockBehavior.Strict);
    private readonly List<BoxInstance> _instances = [];
    private readonly List<LaunchRequest> _launches = [];
    private readonly List<string> _terminated = [];
    private readonly Queue<LaunchOutcome> _outcomes = new();
    private readonly InMemoryControllerStore _store = new();
    private readonly InMemoryLedger _ledger = new();
    private readonly Mock<ISessionCostRecorder> _costs = new();
    private readonly FakeBoxDocuments _documents = new();
    private readonly InMemoryLaunchClaimStore _claims = new();
    private readonly RecordingLogger<Reconciler> _logger = new();
    private readonly ControllerOptions _options = new();
    private readonly List<RollbackGuard> _rollbackGuards = [];
    private Reconciler? _reconciler;

    public ReconcilerTests()
    {
        var box = new BoxOptions
        {
            Owner = "alice",
            Region = "eu-central-1",
            ImageId = "ami-0abcdef1234567890",
            Storage = Storage,
            User = "alice",
            OnDemandFallback = false,
        };
        box.InstanceTypes.Add("m7i.large");
        box.InstanceTypes.Add("m6i.large");
        box.Subnets.Add("subnet-0aaa1111");
        box.Subnets.Add("subnet-0bbb2222");
        box.Schedule.TimeZone = "Europe/Berlin";
        box.Schedule.Periods.Add("Mon-Fri 08:30-19:00");
        _options.Boxes[Box] = box;

        _gateway.SetupGet(g => g.Region).Returns("eu-central-1");
        _gateway.Setup(g => g.FindBoxInstancesAsync(It.IsAny<string?>(), It.IsAny<CancellationToken>()))
            .Returns<string?, CancellationToken>((b, _) => Task.FromResult<IReadOnlyList<BoxInstance>>([.. _instances.Where(i => b is null || i.Box == b)]));
        _gateway.Setup(g => g.DescribeImageAsync(It.IsAny<ImageSelector>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new MachineImage("ami-0abcdef1234567890", "debian-12-amd64", CpuArchitecture.X64, "/dev/xvda", WindowStart.AddDays(-20)));
        _gateway.Setup(g => g.DescribeInstanceTypeArchitecturesAsync(It.IsAny<IReadOnlyCollection<string>>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new Dictionary<string, IReadOnlySet<CpuArchitecture>>
            {
                ["m7i.large"] = new HashSet<CpuArchitecture> { CpuArchitecture.X64 },
                ["m6i.large"] = new HashSet<CpuArchitecture> { CpuArchitecture.X64 },
            });
        _gateway.Setup(g => g.DescribeSubnetZonesAsync(It.IsAny<IReadOnlyList<string>>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new Dictionary<string, string> { ["subnet-0aaa1111"] = "eu-central-1a", ["subnet-0bbb2222"] = "eu-central-1b" });
        // m6i.large in 1a is the cheapest pool, then m6i.large/1b, m7i.large/1a, m7i.large/1b.
        _gateway.Setup(g => g.DescribeSpotPricesAsync(It.IsAny<SpotPriceQuery>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new SpotPriceHistory(
            [
                new("m6i.large", "eu-central-1a", SpotPriceQuery.LinuxUnix, 0.030m, WindowStart.AddDays(-1)),
                new("m6i.large", "eu-central-1b", SpotPriceQuery.LinuxUnix, 0.032m, WindowStart.AddDays(-1)),
                new("m7i.large", "eu-central-1a", SpotPriceQuery.LinuxUnix, 0.035m, WindowStart.AddDays(-1)),
                new("m7i.large", "eu-central-1b", SpotPriceQuery.LinuxUnix, 0.036m, WindowStart.AddDays(-1)),
            ]));
        _gateway.Setup(g => g.LaunchAsync(It.IsAny<LaunchRequest>(), It.IsAny<CancellationToken>()))
            .Returns<LaunchRequest, CancellationToken>((r, _) =>
            {
                _launches.Add(r);
                if (_outcomes.Count > 0)
                {
                    return Task.FromResult(_outcomes.Dequeue());
                }

                var instance = new BoxInstance(
                    $"i-0{_launches.Count:0000000000000000}", r.Box, r.Owner, r.SessionId, r.InstanceType, r.SubnetId == "subnet-0aaa1111" ? "eu-central-1a" : "eu-central-1b",
                    r.Market, InstanceState.Pending, null, _time.GetUtcNow(), "10.0.0.5", null, null,
                    InstanceProfileArn: r.InstanceProfile is { } profile ? (profile.StartsWith("arn:", StringComparison.Ordinal) ? profile : ProfileArn(profile)) : null);
                _instances.Add(instance);
                return Task.FromResult<LaunchOutcome>(new LaunchOutcome.Launched(instance));
            });
        _gateway.Setup(g => g.TerminateAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Returns<string, CancellationToken>((id, _) =>
            {
                _terminated.Add(id);
                End(id, new StateReason(StateReasonCodes.UserInitiatedShutdown, "Client.UserInitiatedShutdown: User initiated shutdown"));
                return Task.FromResult(InstanceState.ShuttingDown);
            });
    }

    [Fact]
    public async Task Reconcile_StartOfTheWindowWhileAnUpHoldsTheLaunchClaim_DoesNotLaunchAndNamesWhoDoes()
    {
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);
        // `spotdevbox up alice` on a laptop claimed the launch a moment ago; its instance is not listed yet.
        _claims.Put(Storage, new LaunchClaim { Box = Box, SessionId = "20261127T072955Z-0a1b2c", ClaimedBy = "alice", ClaimedAt = WindowStart.AddSeconds(-5), ExpiresAt = WindowStart.AddSeconds(-5) + LaunchClaims.Lifetime });

        var decision = Single(await Reconciler().ReconcileAllAsync(CancellationToken.None));

        Assert.Equal(ReconcileActions.LaunchClaimed, decision.Action);
        Assert.Contains("alice launched it at 07:29:55 UTC (session 20261127T072955Z-0a1b2c)", decision.Reason, StringComparison.Ordinal);
        Assert.Equal("20261127T072955Z-0a1b2c", decision.SessionId);
        Assert.Empty(_launches);
    }

    [Fact]
    public async Task Reconcile_StartOfTheWindow_ClaimsTheLaunchLaunchesWithItsSessionAndRecordsTheInstance()
    {
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);

        var decision = Single(await Reconciler().ReconcileAllAsync(CancellationToken.None));

        Assert.Equal(ReconcileActions.Launch, decision.Action);
        var claim = _claims[Storage]!;
        Assert.Equal(("controller", decision.InstanceId, (string?)null), (claim.ClaimedBy, claim.InstanceId, claim.Failed));
        // The session written in the claim is the one the launch used: in its tag and its client token.
        Assert.Equal(claim.SessionId, Assert.Single(_launches).SessionId);
        var launch = Assert.Single(_launches);
        Assert.Equal(ClientTokens.Derive(Box, claim.SessionId, launch.InstanceType, launch.SubnetId!, launch.Market), launch.ClientToken);
        Assert.Equal(claim.SessionId, decision.SessionId);
    }

    [Fact]
    public async Task Reconcile_StartOfTheWindow_LaunchesOnTheCheapestPoolAndOpensTheSession()
    {
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);

        var decision = Single(await Reconciler().ReconcileAllAsync(CancellationToken.None));

        Assert.Equal(ReconcileActions.Launch, decision.Action);
        Assert.StartsWith("start: inside Mon-Fri 08:30-19:00", decision.Reason, StringComparison.Ordinal);
        var request = Assert.Single(_launches);
        Assert.Equal(("m6i.large", "subnet-0aaa1111"), (request.InstanceType, request.SubnetId));
        Assert.Equal("#cloud-config x86_64", request.UserData);
        var session = Assert.Single(_store.Sessions.Values);
        Assert.Equal((decision.InstanceId, "m6i.large", "eu-central-1a", 0.030m, (DateTimeOffset?)null), (session.InstanceId, session.InstanceType, session.AvailabilityZone, session.PricePerHour, session.End));
        Assert.Equal(WindowEnd, decision.NextChange);
        Assert.Contains(_store.Decisions, d => d.Action == ReconcileActions.Launch && d.InstanceId == decision.InstanceId);
    }

    [Fact]
    public async Task Reconcile_EveryPassWhileUp_LaunchesOnceAndStoresTheDecisionOnce()
    {
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);
        var reconciler = Reconciler();
        await reconciler.ReconcileAllAsync(CancellationToken.None);
        Run(0);

        for (var pass = 0; pass < 3; pass++)
        {
            _time.Advance(TimeSpan.FromSeconds(45));
            var decision = Single(await reconciler.ReconcileAllAsync(CancellationToken.None));
            Assert.Equal(ReconcileActions.None, decision.Action);
        }

        Assert.Single(_launches);
        Assert.Single(_store.Decisions, d => d.Action == ReconcileActions.None);
        Assert.Equal(
            ["i-00000000000000001: running"],
            _store.Decisions.Where(d => d.Action == ReconcileActions.InstanceState).Select(d => d.Reason));
    }

    [Fact]
    public async Task Reconcile_SpotInterruptionInsideTheWindow_RelaunchesAwayFromTheInterruptedPool()
    {
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);
        var reconciler = Reconciler();
        await reconciler.ReconcileAllAsync(CancellationToken.None);
        var first = Run(0);
        _time.Advance(TimeSpan.FromHours(3));
        End(first.InstanceId, new StateReason(StateReasonCodes.SpotInstanceTermination, "Server.SpotInstanceTermination: Spot instance termination"));

        var decision = Single(await reconciler.ReconcileAllAsync(CancellationToken.None));

        Assert.Equal(ReconcileActions.Relaunch, decision.Action);
        Assert.Contains($"{first.InstanceId} was interrupted by EC2 inside the window", decision.Reason, StringComparison.Ordinal);
        Assert.Contains("away from m6i.large in eu-central-1a first", decision.Reason, StringComparison.Ordinal);
        // Neither m6i.large nor eu-central-1a: m7i.large in 1b, although m6i.large/1b is cheaper.
        Assert.Equal(("m7i.large", "subnet-0bbb2222"), (_launches[1].InstanceType, _launches[1].SubnetId));
        Assert.NotEqual(_launches[0].SessionId, _launches[1].SessionId);
        var ended = _store.Sessions[first.InstanceId];
        Assert.Equal((SessionEndings.Interruption, (DateTimeOffset?)_time.GetUtcNow()), (ended.EndedBy, ended.End));
        // Its cost is recorded once, as it closes, with the box's options (volume, storage).
        _costs.Verify(c => c.RecordAsync(ended, _options.Boxes[Box], It.IsAny<CancellationToken>()), Times.Once);
        Assert.Equal(
            // Launched after the pass listed the instances; the next pass first sees it ended.
            [$"{first.InstanceId}: terminated (Server.SpotInstanceTermination)"],
            _store.Decisions.Where(d => d.Action == ReconcileActions.InstanceState && d.InstanceId == first.InstanceId).Select(d => d.Reason));
    }

    [Fact]
    public async Task Reconcile_AgentsInterruptionRecordWithoutEc2Reason_CountsAsInterruption()
    {
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);
        var reconciler = Reconciler();
        await reconciler.ReconcileAllAsync(CancellationToken.None);
        var first = Run(0);
        _time.Advance(TimeSpan.FromHours(1));
        _documents.Interruptions[first.InstanceId] = new InterruptionRecord
        {
            Box = Box, InstanceId = first.InstanceId, Action = "terminate", NoticeTime = _time.GetUtcNow(), SeenAt = _time.GetUtcNow(), Deadline = _time.GetUtcNow(),
        };
        End(first.InstanceId, null);

        var decision = Single(await reconciler.ReconcileAllAsync(CancellationToken.None));

        Assert.Equal(ReconcileActions.Relaunch, decision.Action);
        Assert.Equal(SessionEndings.Interruption, _store.Sessions[first.InstanceId].EndedBy);
    }

    [Fact]
    public async Task Reconcile_SpotInterruptionAfterTheWindow_DoesNotRelaunch()
    {
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);
        var reconciler = Reconciler();
        await reconciler.ReconcileAllAsync(CancellationToken.None);
        var first = Run(0);
        _time.Advance(WindowEnd - WindowStart + TimeSpan.FromMinutes(1));
        End(first.InstanceId, new StateReason(StateReasonCodes.SpotInstanceTermination, "Server.SpotInstanceTermination: Spot instance termination"));

        var decision = Single(await reconciler.ReconcileAllAsync(CancellationToken.None));

        Assert.Equal(ReconcileActions.None, decision.Action);
        Assert.StartsWith("down and not running: outside every period", decision.Reason, StringComparison.Ordinal);
        Assert.Single(_launches);
        Assert.Equal(SessionEndings.Interruption, _store.Sessions[first.InstanceId].EndedBy);
    }

    [Fact]
    public async Task Reconcile_IdleShutdownInsideTheWindow_StaysDown()
    {
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);
        var reconciler = Reconciler();
        await reconciler.ReconcileAllAsync(CancellationToken.None);
        var first = Run(0);
        _time.Advance(TimeSpan.FromHours(2));
        _documents.Sessions[first.InstanceId] = new SessionRecord
        {
            Box = Box, InstanceId = first.InstanceId, Start = WindowStart, End = _time.GetUtcNow(), EndedBy = SessionEnd.Idle, Detail = "idle for 30 min",
        };
        End(first.InstanceId, new StateReason(StateReasonCodes.InstanceInitiatedShutdown, "Client.InstanceInitiatedShutdown: Instance initiated shutdown"));

        var decision = Single(await reconciler.ReconcileAllAsync(CancellationToken.None));

        Assert.Equal(ReconcileActions.None, decision.Action);
        Assert.Contains("ended at Fri 10:30 (idle) without an interruption: not relaunched", decision.Reason, StringComparison.Ordinal);
        Assert.Single(_launches);
        var ended = _store.Sessions[first.InstanceId];
        Assert.Equal(("idle", "idle for 30 min", (DateTimeOffset?)_time.GetUtcNow()), (ended.EndedBy, ended.EndDetail, ended.End));
    }

    [Fact]
    public async Task Reconcile_StopTimeWithALiveAgent_AsksTheAgentAndWaitsForIt()
    {
        var id = await UpAndRunningAsync();
        _time.Advance(WindowEnd - _time.GetUtcNow());
        var reconciler = Reconciler();

        var asked = Single(await reconciler.ReconcileAllAsync(CancellationToken.None));

        Assert.Equal(ReconcileActions.RequestStop, asked.Action);
        var control = _documents.Controls[Storage];
        Assert.Equal((WindowEnd, "schedule", id), (control.StopAt, control.StopReason, control.StopInstanceId));
        Assert.StartsWith("controller: outside every period", control.RequestedBy, StringComparison.Ordinal);
        Assert.Equal("keep me", control.LeaseNote);

        // The agent answers (users are working, it postponed): no API stop, even after the grace period.
        _time.Advance(TimeSpan.FromMinutes(30));
        _documents.Statuses[Storage] = Status(id, AgentState.Running);
        var waiting = Single(await reconciler.ReconcileAllAsync(CancellationToken.None));
        Assert.Equal(ReconcileActions.WaitForAgent, waiting.Action);
        Assert.Contains("its agent is running, status written 0s ago: waiting for it", waiting.Reason, StringComparison.Ordinal);
        Assert.Empty(_terminated);
    }

    [Fact]
    public async Task Reconcile_StopTimeWithoutALiveAgent_StopsThroughTheApiAfterTheGrace()
    {
        var id = await UpAndRunningAsync();
        _documents.Statuses[Storage] = Status(id, AgentState.Running) with { UpdatedAt = WindowStart.AddMinutes(5) };
        _time.Advance(WindowEnd - _time.GetUtcNow());
        var reconciler = Reconciler();
        Assert.Equal(ReconcileActions.RequestStop, Single(await reconciler.ReconcileAllAsync(CancellationToken.None)).Action);

        _time.Advance(TimeSpan.FromMinutes(9));
        var waiting = Single(await reconciler.ReconcileAllAsync(CancellationToken.None));
        Assert.Equal(ReconcileActions.WaitForAgent, waiting.Action);
        Assert.Contains("terminating through the API in 1m00s unless it answers", waiting.Reason, StringComparison.Ordinal);
        Assert.Empty(_terminated);

        _time.Advance(TimeSpan.FromMinutes(1));
        var stopped = Single(await reconciler.ReconcileAllAsync(CancellationToken.None));

        Assert.Equal(ReconcileActions.ApiStop, stopped.Action);
        Assert.Contains($"no live agent on {id} (its agent is running, status written 10h", stopped.Reason, StringComparison.Ordinal);
        Assert.Equal([id], _terminated);
        _time.Advance(TimeSpan.FromSeconds(45));
        await reconciler.ReconcileAllAsync(CancellationToken.None);
        Assert.Equal(SessionEndings.ApiStop, _store.Sessions[id].EndedBy);
        Assert.Contains(_logger.Events, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning && e.Message.Contains("api-stop", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Reconcile_LiveAgentThatNeverStops_StoppedAtTheHardLimit()
    {
        var id = await UpAndRunningAsync();
        _time.Advance(WindowEnd - _time.GetUtcNow());
        var reconciler = Reconciler();
        await reconciler.ReconcileAllAsync(CancellationToken.None);

        _time.Advance(TimeSpan.FromHours(3));
        _documents.Statuses[Storage] = Status(id, AgentState.Running);
        var decision = Single(await reconciler.ReconcileAllAsync(CancellationToken.None));

        Assert.Equal(ReconcileActions.ApiStop, decision.Action);
        Assert.Contains("past Reconcile:StopHardLimit 3h00m", decision.Reason, StringComparison.Ordinal);
        Assert.Equal([id], _terminated);
    }

    [Fact]
    public async Task Reconcile_UpOverrideAfterAStopWasAsked_WithdrawsTheStop()
    {
        var id = await UpAndRunningAsync();
        _time.Advance(WindowEnd - _time.GetUtcNow());
        var reconciler = Reconciler();
        await reconciler.ReconcileAllAsync(CancellationToken.None);

        _time.Advance(TimeSpan.FromMinutes(2));
        _documents.Controls[Storage] = _documents.Controls[Storage] with
        {
            Override = OverrideDocument.Of(ScheduleOverride.UpFor(TimeSpan.FromHours(3), _time.GetUtcNow(), "alice")),
        };
        var decision = Single(await reconciler.ReconcileAllAsync(CancellationToken.None));

        Assert.Equal(ReconcileActions.WithdrawStop, decision.Action);
        var control = _documents.Controls[Storage];
        Assert.Null(control.StopAt);
        Assert.NotNull(control.Override);
        Assert.Equal(_time.GetUtcNow().AddHours(3), decision.NextChange);
    }

    [Fact]
    public async Task Reconcile_DownOverrideInsideTheWindow_AsksTheAgentToStop()
    {
        var id = await UpAndRunningAsync();
        var schedule = _options.Boxes[Box].Schedule.ToSchedule();
        _documents.Controls[Storage] = new ControlDocument { Override = OverrideDocument.Of(ScheduleOverride.DownUntil(schedule, DayOfWeek.Monday, _time.GetUtcNow(), "alice")) };

        var decision = Single(await Reconciler().ReconcileAllAsync(CancellationToken.None));

        Assert.Equal(ReconcileActions.RequestStop, decision.Action);
        Assert.Equal(id, _documents.Controls[Storage].StopInstanceId);
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 7, 30, 0, TimeSpan.Zero), decision.NextChange);
    }

    [Fact]
    public async Task Reconcile_UpOverrideOutsideTheWindow_Launches()
    {
        _time.Advance(TimeSpan.FromDays(1));
        await _store.SetLastRunAsync(_time.GetUtcNow().AddSeconds(-45), CancellationToken.None);
        _documents.Controls[Storage] = new ControlDocument { Override = OverrideDocument.Of(ScheduleOverride.UpFor(TimeSpan.FromHours(3), _time.GetUtcNow(), "alice")) };

        var decision = Single(await Reconciler().ReconcileAllAsync(CancellationToken.None));

        Assert.Equal(ReconcileActions.Launch, decision.Action);
        Assert.Contains("start: up until Sat 11:30 by override of alice", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reconcile_ControllerWasDownAtTheStartWithinGrace_StartsTheBox()
    {
        _options.Boxes[Box].Schedule.MissedStartGrace = TimeSpan.FromHours(2);
        await _store.SetLastRunAsync(WindowStart.AddHours(-12), CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(40));

        var decision = Single(await Reconciler().ReconcileAllAsync(CancellationToken.None));

        Assert.Equal(ReconcileActions.Launch, decision.Action);
        Assert.StartsWith("controller was down at Fri 08:30 (start)", decision.Reason, StringComparison.Ordinal);
        Assert.Single(_launches);
    }

    [Fact]
    public async Task Reconcile_ControllerWasDownAtTheStartBeyondGrace_SkipsItOnEveryPass()
    {
        _options.Boxes[Box].Schedule.MissedStartGrace = TimeSpan.FromHours(2);
        await _store.SetLastRunAsync(WindowStart.AddHours(-12), CancellationToken.None);
        _time.Advance(TimeSpan.FromHours(3));
        var reconciler = Reconciler();

        var decision = Single(await reconciler.ReconcileAllAsync(CancellationToken.None));
        _time.Advance(TimeSpan.FromSeconds(45));
        var next = Single(await reconciler.ReconcileAllAsync(CancellationToken.None));

        Assert.Equal(ReconcileActions.SkipMissedStart, decision.Action);
        Assert.Contains("beyond MissedStartGrace", decision.Reason, StringComparison.Ordinal);
        Assert.Equal(ReconcileActions.SkipMissedStart, next.Action);
        Assert.Empty(_launches);
    }

    [Fact]
    public async Task Reconcile_ControllerWasDownButTheAgentRanInThePeriod_DoesNotStartItAgain()
    {
        // `spotdevbox up` started the box while no controller ran; it went idle before the controller came back.
        await _store.SetLastRunAsync(WindowStart.AddHours(-12), CancellationToken.None);
        _time.Advance(TimeSpan.FromHours(4));
        _documents.Statuses[Storage] = Status("i-0fromup", AgentState.Stopped) with { SessionStart = WindowStart.AddMinutes(10), StopReason = "idle" };

        var decision = Single(await Reconciler().ReconcileAllAsync(CancellationToken.None));

        Assert.Equal(ReconcileActions.None, decision.Action);
        Assert.Contains("(idle) without an interruption: not relaunched", decision.Reason, StringComparison.Ordinal);
        Assert.Empty(_launches);
    }

    [Fact]
    public async Task Reconcile_TwoLiveInstances_KeepsTheOldestAndTerminatesTheOther()
    {
        _instances.Add(Instance("i-0older", InstanceState.Running, WindowStart.AddMinutes(1)));
        _instances.Add(Instance("i-0newer", InstanceState.Pending, WindowStart.AddMinutes(1).AddSeconds(2)));
        _time.Advance(TimeSpan.FromMinutes(2));

        var decision = Single(await Reconciler().ReconcileAllAsync(CancellationToken.None));

        Assert.Equal(ReconcileActions.TerminateDuplicate, decision.Action);
        Assert.Equal(["i-0newer"], _terminated);
        Assert.Equal("i-0older", decision.InstanceId);
    }

    [Fact]
    public async Task Reconcile_ConcurrentPassesAndTriggers_LaunchOneInstance()
    {
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);
        var reconciler = Reconciler();

        // A schedule trigger, the periodic pass and another trigger fire at once.
        await Task.WhenAll(
            Task.Run(() => reconciler.ReconcileBoxAsync(Box, CancellationToken.None)),
            Task.Run(() => reconciler.ReconcileAllAsync(CancellationToken.None)),
            Task.Run(() => reconciler.ReconcileBoxAsync(Box, CancellationToken.None)));

        Assert.Single(_launches);
        Assert.Single(_instances);
    }

    [Fact]
    public async Task Reconcile_NoCapacityAnywhere_BacksOffThenRetries()
    {
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);
        for (var i = 0; i < 4; i++)
        {
            _outcomes.Enqueue(new LaunchOutcome.NoCapacity("InsufficientInstanceCapacity: none"));
        }

        var reconciler = Reconciler();
        var failed = Single(await reconciler.ReconcileAllAsync(CancellationToken.None));
        Assert.Equal(ReconcileActions.LaunchFailed, failed.Action);
        Assert.Contains("retrying in 1m00s", failed.Reason, StringComparison.Ordinal);
        Assert.Equal(4, _launches.Count);

        _time.Advance(TimeSpan.FromSeconds(45));
        var deferred = Single(await reconciler.ReconcileAllAsync(CancellationToken.None));
        Assert.Equal(ReconcileActions.LaunchDeferred, deferred.Action);
        Assert.Equal(4, _launches.Count);

        _time.Advance(TimeSpan.FromSeconds(45));
        var launched = Single(await reconciler.ReconcileAllAsync(CancellationToken.None));
        Assert.Equal(ReconcileActions.Launch, launched.Action);
        Assert.Equal(0, (await _store.GetBoxStateAsync(Box, CancellationToken.None))!.LaunchFailures);
    }

    [Fact]
    public async Task Reconcile_IndeterminateLaunch_RetriesWithTheSameSessionSoTheSameClientToken()
    {
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);
        for (var i = 0; i < 4; i++)
        {
            _outcomes.Enqueue(new LaunchOutcome.Indeterminate("the connection was reset"));
        }

        var reconciler = Reconciler();
        var launch = reconciler.ReconcileAllAsync(CancellationToken.None);
        // The launcher repeats the same request after 2, 4 and 8 s.
        for (var i = 0; i < 3; i++)
        {
            await WaitForLaunchesAsync(i + 1);
            _time.Advance(TimeSpan.FromSeconds(8));
        }

        Assert.Equal(ReconcileActions.LaunchFailed, Single(await launch).Action);
        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(ReconcileActions.Launch, Single(await reconciler.ReconcileAllAsync(CancellationToken.None)).Action);

        Assert.Equal(5, _launches.Count);
        Assert.Single(_launches.Select(l => l.ClientToken).Distinct());
    }

    [Fact]
    public async Task Reconcile_InstanceTerminatedWhileNobodyWatched_ClosesItsSessionFromTheAgentsRecord()
    {
        await _store.UpsertSessionAsync(
            new SessionRow(Box, "i-0gone", "s1", "eu-central-1", "alice", "m6i.large", "eu-central-1a", InstanceLifecycle.Spot, 0.03m, WindowStart.AddDays(-1)),
            CancellationToken.None);
        _documents.Sessions["i-0gone"] = new SessionRecord { Box = Box, InstanceId = "i-0gone", Start = WindowStart.AddDays(-1), End = WindowStart.AddDays(-1).AddHours(9), EndedBy = SessionEnd.Schedule };
        _time.Advance(WindowEnd - WindowStart + TimeSpan.FromHours(1));

        await Reconciler().ReconcileAllAsync(CancellationToken.None);

        var session = _store.Sessions["i-0gone"];
        Assert.Equal(("schedule", (DateTimeOffset?)WindowStart.AddDays(-1).AddHours(9)), (session.EndedBy, session.End));
    }

    [Fact]
    public async Task Reconcile_PassLongAfterTheEnd_EndsTheSessionAtEc2sTransitionTime()
    {
        // Issue 11: an instance that ran about 40 s was costed for 681 s, the time the controller noticed.
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);
        var reconciler = Reconciler();
        await reconciler.ReconcileAllAsync(CancellationToken.None);
        var first = Run(0);
        _time.Advance(TimeSpan.FromSeconds(20));
        await reconciler.ReconcileAllAsync(CancellationToken.None);
        End(first.InstanceId, new StateReason(StateReasonCodes.UserInitiatedShutdown, "Client.UserInitiatedShutdown: User initiated shutdown"), WindowStart.AddSeconds(40));
        _time.Advance(TimeSpan.FromSeconds(661));

        await reconciler.ReconcileAllAsync(CancellationToken.None);

        var ended = _store.Sessions[first.InstanceId];
        Assert.Equal(((DateTimeOffset?)WindowStart.AddSeconds(40), (DateTimeOffset?)null), (ended.End, ended.LatestEnd));
        _costs.Verify(c => c.RecordAsync(It.Is<SessionRow>(r => r.End == WindowStart.AddSeconds(40)), _options.Boxes[Box], It.IsAny<CancellationToken>()), Times.Once);
        Assert.Contains(
            $"session of {first.InstanceId} ended at 2026-11-27 07:30:40 UTC after 40s: terminated-by-user",
            _store.Decisions.Where(d => d.Action == ReconcileActions.SessionEnded).Select(d => d.Reason).Single(),
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reconcile_TransitionTimeBeforeItWasSeenRunning_EndsWhenItWasLastSeenRunning()
    {
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);
        var reconciler = Reconciler();
        await reconciler.ReconcileAllAsync(CancellationToken.None);
        var first = Run(0);
        _time.Advance(TimeSpan.FromMinutes(2));
        await reconciler.ReconcileAllAsync(CancellationToken.None);
        // A time that cannot be right (the instance was seen running after it): the pass's sighting bounds it.
        End(first.InstanceId, null, WindowStart.AddSeconds(30));
        _time.Advance(TimeSpan.FromMinutes(10));

        await reconciler.ReconcileAllAsync(CancellationToken.None);

        Assert.Equal((DateTimeOffset?)WindowStart.AddMinutes(2), _store.Sessions[first.InstanceId].End);
    }

    [Fact]
    public async Task Reconcile_GoneFromEc2WithoutAnyRecord_CostsUpToWhenLastSeenRunningAndMarksTheRestUnknown()
    {
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);
        var reconciler = Reconciler();
        await reconciler.ReconcileAllAsync(CancellationToken.None);
        var first = Run(0);
        _time.Advance(TimeSpan.FromSeconds(45));
        await reconciler.ReconcileAllAsync(CancellationToken.None);
        // Terminated while the controller was away for longer than EC2 lists a terminated instance; no agent record.
        _instances.Clear();
        _time.Advance(TimeSpan.FromHours(2));

        await reconciler.ReconcileAllAsync(CancellationToken.None);

        var ended = _store.Sessions[first.InstanceId];
        Assert.Equal(((DateTimeOffset?)WindowStart.AddSeconds(45), (DateTimeOffset?)WindowStart.AddSeconds(45).AddHours(2)), (ended.End, ended.LatestEnd));
        Assert.Contains(
            "ended between 2026-11-27 07:30:45 UTC (last known running, after 45s) and 2026-11-27 09:30:45 UTC",
            _store.Decisions.Where(d => d.Action == ReconcileActions.SessionEnded).Select(d => d.Reason).Single(),
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reconcile_GoneWhileTheControllerWasRestarting_CostsUpToWhenTheStoreSaysItWasLastSeenRunning()
    {
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);
        using (var before = Reconciler())
        {
            await before.ReconcileAllAsync(CancellationToken.None);
            var running = Run(0);
            _time.Advance(TimeSpan.FromMinutes(20));
            await before.ReconcileAllAsync(CancellationToken.None);
            Assert.Equal((DateTimeOffset?)WindowStart.AddMinutes(20), _store.Sessions[running.InstanceId].LastSeenRunning);
        }

        // The controller is down; the instance is terminated and EC2 stops listing it; no agent record.
        var id = _instances[0].InstanceId;
        _instances.Clear();
        _time.Advance(TimeSpan.FromHours(2));

        // A new process: only the store remembers.
        await Reconciler().ReconcileAllAsync(CancellationToken.None);

        var ended = _store.Sessions[id];
        Assert.Equal(((DateTimeOffset?)WindowStart.AddMinutes(20), (DateTimeOffset?)WindowStart.AddMinutes(20).AddHours(2)), (ended.End, ended.LatestEnd));
    }

    [Fact]
    public async Task Reconcile_RunningInstance_OneLastSeenWritePerPass()
    {
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);
        var reconciler = Reconciler();
        await reconciler.ReconcileAllAsync(CancellationToken.None);
        var running = Run(0);
        _time.Advance(TimeSpan.FromMinutes(1));
        await reconciler.ReconcileAllAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(1));
        await reconciler.ReconcileAllAsync(CancellationToken.None);

        Assert.Equal(2, _store.SeenRunningWrites);
        Assert.Equal((DateTimeOffset?)WindowStart.AddMinutes(2), _store.Sessions[running.InstanceId].LastSeenRunning);
    }

    [Fact]
    public async Task Reconcile_GoneFromEc2WithTheAgentsInterruptionRecord_EndsWhenTheNoticeSaidEc2WouldAct()
    {
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);
        var reconciler = Reconciler();
        await reconciler.ReconcileAllAsync(CancellationToken.None);
        var first = Run(0);
        _time.Advance(TimeSpan.FromSeconds(45));
        await reconciler.ReconcileAllAsync(CancellationToken.None);
        _documents.Interruptions[first.InstanceId] = new InterruptionRecord
        {
            Box = Box, InstanceId = first.InstanceId, Action = "terminate", NoticeTime = WindowStart.AddMinutes(12), SeenAt = WindowStart.AddMinutes(10), Deadline = WindowStart.AddMinutes(11),
        };
        _instances.Clear();
        _time.Advance(TimeSpan.FromHours(2));

        await reconciler.ReconcileAllAsync(CancellationToken.None);

        var ended = _store.Sessions[first.InstanceId];
        Assert.Equal((SessionEndings.Interruption, (DateTimeOffset?)WindowStart.AddMinutes(12), (DateTimeOffset?)null), (ended.EndedBy, ended.End, ended.LatestEnd));
    }

    // The box writes sessions/ and interruptions/: the ledger takes them only within what EC2 reports (docs/savings.md).

    [Fact]
    public async Task Reconcile_SessionRecordEndingAYearAfterEc2EndedIt_IgnoredAsASecurityEventAndEndedAsEc2Says()
    {
        var first = await RunningForAsync(TimeSpan.FromMinutes(45));
        var ended = _time.GetUtcNow();
        _documents.Sessions[first] = new SessionRecord
        {
            Box = Box, InstanceId = first, Start = WindowStart, End = ended.AddDays(365), EndedBy = SessionEnd.Schedule, Detail = "a year of work",
        };
        End(first, new StateReason(StateReasonCodes.UserInitiatedShutdown, "Client.UserInitiatedShutdown: User initiated shutdown"));
        _time.Advance(TimeSpan.FromMinutes(1));

        await Reconciler().ReconcileAllAsync(CancellationToken.None);

        var session = _store.Sessions[first];
        Assert.Equal(((DateTimeOffset?)ended, SessionEndings.TerminatedByUser), (session.End, session.EndedBy));
        var warning = Assert.Single(_logger.Messages(5130));
        Assert.Equal(
            $"Security: box alice: sessions/…-{first}.json ignored: its end 2027-11-27 08:15:00 UTC is after EC2 ended the instance; " +
            $"the ledger uses only what EC2 reports ({first} launched 2026-11-27 07:30:00 UTC, ended 2026-11-27 08:15:00 UTC (\"Client.UserInitiatedShutdown\"))",
            warning);
    }

    [Fact]
    public async Task Reconcile_SessionRecordEndingBeforeTheLaunch_IgnoredAsASecurityEvent()
    {
        var first = await RunningForAsync(TimeSpan.FromMinutes(50));
        _documents.Sessions[first] = new SessionRecord
        {
            Box = Box, InstanceId = first, Start = WindowStart.AddDays(-1), End = WindowStart.AddMinutes(-30), EndedBy = SessionEnd.Idle,
        };
        End(first, new StateReason(StateReasonCodes.InstanceInitiatedShutdown, "Client.InstanceInitiatedShutdown: Instance initiated shutdown"));

        await Reconciler().ReconcileAllAsync(CancellationToken.None);

        var session = _store.Sessions[first];
        Assert.Equal(((DateTimeOffset?)WindowStart.AddMinutes(50), SessionEndings.InstanceShutdown), (session.End, session.EndedBy));
        Assert.Contains("its end 2026-11-27 07:00:00 UTC is before EC2 launched the instance", Assert.Single(_logger.Messages(5130)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reconcile_InterruptionRecordForAnInstanceTheScheduleStopped_NoInterruptionSoNoFreeFirstHour()
    {
        // A 45-minute window: the schedule stops the box before its first hour is over.
        _options.Boxes[Box].Schedule.Periods.Clear();
        _options.Boxes[Box].Schedule.Periods.Add("Mon-Fri 08:30-09:15");
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);
        var reconciler = Reconciler();
        await reconciler.ReconcileAllAsync(CancellationToken.None);
        var first = Run(0).InstanceId;
        _time.Advance(TimeSpan.FromMinutes(46));
        Assert.Equal(ReconcileActions.RequestStop, Single(await reconciler.ReconcileAllAsync(CancellationToken.None)).Action);
        // The agent powers off as asked (EC2: instance initiated shutdown), and root on the box writes a spot notice.
        _time.Advance(TimeSpan.FromMinutes(2));
        _documents.Sessions[first] = new SessionRecord { Box = Box, InstanceId = first, Start = WindowStart, End = _time.GetUtcNow(), EndedBy = SessionEnd.Schedule };
        _documents.Interruptions[first] = new InterruptionRecord
        {
            Box = Box, InstanceId = first, Action = "terminate", NoticeTime = _time.GetUtcNow(), SeenAt = _time.GetUtcNow().AddMinutes(-2), Deadline = _time.GetUtcNow(),
        };
        End(first, new StateReason(StateReasonCodes.InstanceInitiatedShutdown, "Client.InstanceInitiatedShutdown: Instance initiated shutdown"));

        await reconciler.ReconcileAllAsync(CancellationToken.None);

        // Ended by the schedule, as EC2 and the session record agree: charged from the first second (docs/savings.md, first-hour rule).
        var session = _store.Sessions[first];
        Assert.Equal(("schedule", (DateTimeOffset?)WindowStart.AddMinutes(48)), (session.EndedBy, session.End));
        Assert.Contains(
            $"interruptions/…-{first}.json ignored: EC2 reports the instance ended by \"Client.InstanceInitiatedShutdown\", not by a spot interruption",
            Assert.Single(_logger.Messages(5130)),
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reconcile_SessionRecordClaimingAnInterruptionEc2DoesNotShow_NotAnInterruption()
    {
        var first = await RunningForAsync(TimeSpan.FromMinutes(30));
        _documents.Sessions[first] = new SessionRecord { Box = Box, InstanceId = first, Start = WindowStart, End = _time.GetUtcNow(), EndedBy = SessionEnd.Interruption };
        End(first, new StateReason(StateReasonCodes.InstanceInitiatedShutdown, "Client.InstanceInitiatedShutdown: Instance initiated shutdown"));

        var decision = Single(await Reconciler().ReconcileAllAsync(CancellationToken.None));

        Assert.Equal(SessionEndings.InstanceShutdown, _store.Sessions[first].EndedBy);
        // Not relaunched as after an interruption either: the session ended inside the window some other way.
        Assert.Equal(ReconcileActions.None, decision.Action);
        Assert.Contains("it says the session ended by a spot interruption", Assert.Single(_logger.Messages(5130)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reconcile_RecordsNamingAnotherInstanceOrBox_Ignored()
    {
        var first = await RunningForAsync(TimeSpan.FromMinutes(30));
        // Stored under this instance's name, but written about another instance and another box.
        _documents.Sessions[first] = new SessionRecord { Box = Box, InstanceId = "i-0another", Start = WindowStart, End = _time.GetUtcNow(), EndedBy = SessionEnd.Manual };
        _documents.Interruptions[first] = new InterruptionRecord
        {
            Box = "bob", InstanceId = first, Action = "terminate", NoticeTime = _time.GetUtcNow(), SeenAt = _time.GetUtcNow(), Deadline = _time.GetUtcNow(),
        };
        End(first, null);

        var decision = Single(await Reconciler().ReconcileAllAsync(CancellationToken.None));

        Assert.Equal(SessionEndings.Unknown, _store.Sessions[first].EndedBy);
        Assert.NotEqual(ReconcileActions.Relaunch, decision.Action);
        var warnings = _logger.Messages(5130);
        Assert.Equal(2, warnings.Count);
        Assert.Contains(warnings, w => w.Contains($"sessions/…-{first}.json ignored: it names another instance, \"i-0another\"", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains($"interruptions/…-{first}.json ignored: it names another box, \"bob\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Reconcile_BoxWithAnElasticIp_PutsItOnTheInstanceOnceItRuns()
    {
        _options.Boxes[Box].ElasticIp = "eipalloc-0123456789abcdef0";
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);
        var reconciler = Reconciler();
        await reconciler.ReconcileAllAsync(CancellationToken.None);

        // Pending: not tried (the strict mock has no AssociateAddress yet). Running: refused once as not ready, then placed, then left alone.
        _time.Advance(TimeSpan.FromSeconds(45));
        Assert.Equal(ReconcileActions.None, Single(await reconciler.ReconcileAllAsync(CancellationToken.None)).Action);
        var id = Run(0).InstanceId;
        var calls = 0;
        _gateway.Setup(g => g.AssociateAddressAsync("eipalloc-0123456789abcdef0", id, It.IsAny<CancellationToken>()))
            .Returns(() => ++calls == 1
                ? Task.FromException<string>(new ComputeException(ComputeFailure.NotReady, "IncorrectInstanceState: the instance is pending"))
                : Task.FromResult("203.0.113.10"));

        var notYet = Single(await reconciler.ReconcileAllAsync(CancellationToken.None));
        var placed = Single(await reconciler.ReconcileAllAsync(CancellationToken.None));
        var after = Single(await reconciler.ReconcileAllAsync(CancellationToken.None));

        Assert.Equal((ReconcileActions.AssociateAddress, true), (notYet.Action, notYet.Reason.Contains("trying again next pass", StringComparison.Ordinal)));
        Assert.Equal($"Elastic IP eipalloc-0123456789abcdef0 (203.0.113.10) is on {id}", placed.Reason);
        Assert.Equal(ReconcileActions.None, after.Action);
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task Reconcile_TaggedInstanceWithAnotherProfile_IsLeftAloneReportedAndTheBoxLaunchedWithoutIt()
    {
        _options.Boxes[Box].InstanceProfile = "spotdevbox-box";
        _options.Boxes[Box].ElasticIp = "eipalloc-0123456789abcdef0";
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);
        // A teammate launched an instance with alice's tag under their own profile, before the window (so it would be the oldest).
        _instances.Add(Instance("i-0foreign", InstanceState.Running, WindowStart.AddMinutes(-10)) with { InstanceProfileArn = ProfileArn("teammate") });
        var addressed = new List<string>();
        _gateway.Setup(g => g.AssociateAddressAsync("eipalloc-0123456789abcdef0", It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Returns<string, string, CancellationToken>((_, id, _) => { addressed.Add(id); return Task.FromResult("203.0.113.10"); });
        var reconciler = Reconciler();

        var launch = Single(await reconciler.ReconcileAllAsync(CancellationToken.None));
        _time.Advance(TimeSpan.FromSeconds(45));
        var ours = Run(1);
        var placed = Single(await reconciler.ReconcileAllAsync(CancellationToken.None));
        var after = Single(await reconciler.ReconcileAllAsync(CancellationToken.None));

        // The box was launched as if it had no instance, with its own profile; the foreign one is not its duplicate.
        Assert.Equal(ReconcileActions.Launch, launch.Action);
        Assert.Equal("spotdevbox-box", Assert.Single(_launches).InstanceProfile);
        Assert.Equal(ours.InstanceId, launch.InstanceId);
        Assert.Equal((ReconcileActions.AssociateAddress, ours.InstanceId), (placed.Action, placed.InstanceId));
        Assert.Equal((ReconcileActions.None, ours.InstanceId), (after.Action, after.InstanceId));
        Assert.Empty(_terminated);
        Assert.Equal([ours.InstanceId], addressed);
        Assert.False(_store.Sessions.ContainsKey("i-0foreign"));
        Assert.Equal(InstanceState.Running, _instances[0].State);
        // Reported once as a security event: a decisions row naming the instance and its profile, and an Error log line.
        var foreign = Assert.Single(_store.Decisions, d => d.Action == ReconcileActions.ForeignInstance);
        Assert.Equal("i-0foreign", foreign.InstanceId);
        Assert.Contains(ProfileArn("teammate"), foreign.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(_store.Decisions, d => d.InstanceId == "i-0foreign" && d.Action != ReconcileActions.ForeignInstance);
        var logged = Assert.Single(_logger.Events, e => e.EventId == 5109);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Error, logged.Level);
        Assert.Contains("i-0foreign", logged.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reconcile_TaggedInstanceWithoutAProfile_IsForeignToABoxWithOne_AndItsOwnProfileByArnIsAdopted()
    {
        _options.Boxes[Box].InstanceProfile = ProfileArn("spotdevbox-box");
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);
        _instances.Add(Instance("i-0noprofile", InstanceState.Running, WindowStart.AddMinutes(-10)));
        _instances.Add(Instance("i-0own", InstanceState.Running, WindowStart.AddMinutes(-5)) with { InstanceProfileArn = ProfileArn("spotdevbox-box") });

        var decision = Single(await Reconciler().ReconcileAllAsync(CancellationToken.None));

        Assert.Equal((ReconcileActions.None, "i-0own"), (decision.Action, decision.InstanceId));
        Assert.Empty(_terminated);
        Assert.Empty(_launches);
        Assert.Equal(["i-0own"], _store.Sessions.Keys);
        var foreign = Assert.Single(_store.Decisions, d => d.Action == ReconcileActions.ForeignInstance);
        Assert.Equal("i-0noprofile", foreign.InstanceId);
        Assert.Contains("instance profile is none", foreign.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reconcile_MonthlyBudgetSpent_RefusesTheLaunchSayingHowToOverride()
    {
        _options.Boxes[Box].MonthlyBudget = 10m;
        // Earlier this month: $10.00 paid.
        _ledger.Entries["i-0earlier"] = Entry("i-0earlier", WindowStart.AddDays(-3), WindowStart.AddDays(-3).AddHours(9), paid: 10.00m);
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);

        var decision = Single(await Reconciler().ReconcileAllAsync(CancellationToken.None));

        Assert.Equal(ReconcileActions.BudgetExceeded, decision.Action);
        Assert.Contains("box alice: $10.00 of its $10.00 budget for 2026-11 (100%): spent; a launch needs 'spotdevbox up alice --over-budget'", decision.Reason, StringComparison.Ordinal);
        Assert.Empty(_launches);
    }

    [Fact]
    public async Task Reconcile_BudgetSpentWithTheOperatorsOverride_Launches()
    {
        _options.Boxes[Box].MonthlyBudget = 10m;
        _ledger.Entries["i-0earlier"] = Entry("i-0earlier", WindowStart.AddDays(-3), WindowStart.AddDays(-3).AddHours(9), paid: 12.00m);
        _documents.BudgetOverrides["alice/alice"] = new BudgetOverride(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), "ops", WindowStart.AddDays(-1));
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);

        var decision = Single(await Reconciler().ReconcileAllAsync(CancellationToken.None));

        Assert.Equal(ReconcileActions.Launch, decision.Action);
        Assert.Single(_launches);
    }

    [Fact]
    public async Task Reconcile_BudgetSpentWithAnExpiredOperatorsOverride_NotLaunched()
    {
        _options.Boxes[Box].MonthlyBudget = 10m;
        _ledger.Entries["i-0earlier"] = Entry("i-0earlier", WindowStart.AddDays(-3), WindowStart.AddDays(-3).AddHours(9), paid: 12.00m);
        _documents.BudgetOverrides["alice/alice"] = new BudgetOverride(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), "ops", new DateTimeOffset(2026, 10, 20, 0, 0, 0, TimeSpan.Zero));
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);

        var decision = Single(await Reconciler().ReconcileAllAsync(CancellationToken.None));

        Assert.Equal(ReconcileActions.BudgetExceeded, decision.Action);
        Assert.Empty(_launches);
    }

    [Fact]
    public async Task Reconcile_BudgetSpentAndAnOverrideInControlJson_NotLaunchedAndSaidOnceWhereOverridesLive()
    {
        // control.json is written by the box's owner (and was writable by the box): a developer lifting their own cap.
        _options.Boxes[Box].MonthlyBudget = 10m;
        _ledger.Entries["i-0earlier"] = Entry("i-0earlier", WindowStart.AddDays(-3), WindowStart.AddDays(-3).AddHours(9), paid: 12.00m);
        _documents.Controls[Storage] = new ControlDocument { BudgetOverrideUntil = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), BudgetOverrideBy = "alice" };
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);
        var reconciler = Reconciler();

        var decision = Single(await reconciler.ReconcileAllAsync(CancellationToken.None));
        _time.Advance(TimeSpan.FromSeconds(45));
        await reconciler.ReconcileAllAsync(CancellationToken.None);

        Assert.Equal(ReconcileActions.BudgetExceeded, decision.Action);
        Assert.Empty(_launches);
        Assert.Equal(
            ["Box alice: the budget override in control.json is ignored: overrides are granted by an operator and live in s3://boxes/_operator/budget-overrides/alice/alice.json ('spotdevbox up BOX --over-budget' writes one, with the operator's right)"],
            _logger.Messages(5131));
        Assert.Equal(LogLevel.Warning, _logger.Events.Single(e => e.EventId == 5131).Level);
    }

    [Fact]
    public async Task Reconcile_OwnersBudgetPast80Percent_WarnsOnceWhileTheAmountGrows()
    {
        _options.OwnerBudgets["alice"] = 20m;
        // $15.00 paid this month, and the running box adds $0.03 an hour (the spot price at its start).
        _ledger.Entries["i-0earlier"] = Entry("i-0earlier", WindowStart.AddDays(-3), WindowStart.AddDays(-3).AddHours(9), paid: 15.00m);
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);
        var reconciler = Reconciler();
        await reconciler.ReconcileAllAsync(CancellationToken.None);
        Run(0);

        _time.Advance(TimeSpan.FromHours(34));
        await reconciler.ReconcileAllAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromHours(1));
        await reconciler.ReconcileAllAsync(CancellationToken.None);

        // 15.00 + 34 h x $0.03 = $16.02 (80.1%): the first warning; the next pass ($16.05) repeats it unchanged.
        var warning = Assert.Single(_store.Decisions, d => d.Action == ReconcileActions.BudgetWarning);
        Assert.Equal("owner alice: $16.02 of its $20.00 budget for 2026-11 (80%)", warning.Reason);
    }

    private static LedgerEntry Entry(string instanceId, DateTimeOffset start, DateTimeOffset end, decimal paid) => new(
        Box, "alice", instanceId, "eu-central-1", "m6i.large", "eu-central-1a", "spot", start, end, "idle", false,
        (long)(end - start).TotalSeconds, (long)(end - start).TotalSeconds, paid, null, 0, 0, paid, 30, null, [], [], end);

    [Fact]
    public async Task Reconcile_Ec2Unreachable_SaysSoAndChangesNothing()
    {
        _gateway.Setup(g => g.FindBoxInstancesAsync(null, It.IsAny<CancellationToken>()))
            .ThrowsAsync(new ComputeException(ComputeFailure.Unavailable, "EC2 could not be reached: connection refused"));

        var decision = Single(await Reconciler().ReconcileAllAsync(CancellationToken.None));

        Assert.Equal(ReconcileActions.Unreachable, decision.Action);
        Assert.Contains("connection refused", decision.Reason, StringComparison.Ordinal);
        Assert.Empty(_launches);
    }

    public void Dispose()
    {
        _reconciler?.Dispose();
        DisposeMetrics();
    }

    private async Task<string> UpAndRunningAsync()
    {
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);
        using (var starting = Reconciler())
        {
            await starting.ReconcileAllAsync(CancellationToken.None);
        }

        var id = Run(0).InstanceId;
        _documents.Controls[Storage] = new ControlDocument { LeaseNote = "keep me" };
        _reconciler = null;
        return id;
    }

    [Fact]
    public async Task Reconcile_StatusReportsNewerThenOlderSnapshots_FloorRaisedNeverLoweredAndCopiedToControlJson()
    {
        var id = await RunningForAsync(TimeSpan.FromHours(1));
        var reconciler = Reconciler();
        var first = new SnapshotFloor(new string('a', 64), WindowStart.AddMinutes(30));
        var older = new SnapshotFloor(new string('b', 64), WindowStart.AddMinutes(10));
        var newer = new SnapshotFloor(new string('c', 64), WindowStart.AddMinutes(50));

        _documents.Statuses[Storage] = Status(id, AgentState.Running) with { LastSnapshotId = first.Id, LastSnapshotTime = first.Time };
        await reconciler.ReconcileAllAsync(CancellationToken.None);
        Assert.Equal(first, _store.Floors[Box]);
        Assert.Equal(first, _documents.Controls[Storage].SnapshotFloor);

        // What a rolled-back repository makes the box report: the floor stays.
        _time.Advance(TimeSpan.FromMinutes(1));
        _documents.Statuses[Storage] = Status(id, AgentState.Running) with { LastSnapshotId = older.Id, LastSnapshotTime = older.Time };
        await reconciler.ReconcileAllAsync(CancellationToken.None);
        Assert.Equal(first, _store.Floors[Box]);
        Assert.Equal(first, _documents.Controls[Storage].SnapshotFloor);

        _time.Advance(TimeSpan.FromMinutes(1));
        _documents.Statuses[Storage] = Status(id, AgentState.Running) with { LastSnapshotId = newer.Id, LastSnapshotTime = newer.Time };
        await reconciler.ReconcileAllAsync(CancellationToken.None);
        Assert.Equal(newer, _store.Floors[Box]);
        Assert.Equal(newer, _documents.Controls[Storage].SnapshotFloor);
    }

    [Theory]
    [InlineData("2027-11-27T09:00:00Z", "after now")]
    [InlineData("2026-11-26T09:00:00Z", "before EC2 launched the instance")]
    public async Task Reconcile_StatusSnapshotOutsideTheInstancesLife_IgnoredAsASecurityEventAndNoFloor(string time, string problem)
    {
        var id = await RunningForAsync(TimeSpan.FromHours(1));
        _documents.Statuses[Storage] = Status(id, AgentState.Running) with
        {
            LastSnapshotId = new string('d', 64),
            LastSnapshotTime = DateTimeOffset.Parse(time, System.Globalization.CultureInfo.InvariantCulture),
        };

        await Reconciler().ReconcileAllAsync(CancellationToken.None);

        Assert.False(_store.Floors.ContainsKey(Box));
        Assert.Null(_documents.Controls.TryGetValue(Storage, out var control) ? control.SnapshotFloor : null);
        var logged = Assert.Single(_logger.Events, e => e.EventId == 5132);
        Assert.Contains(problem, logged.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reconcile_StatusOfAnotherBoxsInstance_NotTakenAsTheFloor()
    {
        var id = await RunningForAsync(TimeSpan.FromHours(1));
        _documents.Statuses[Storage] = Status(id, AgentState.Running) with { Box = "bob", LastSnapshotId = new string('e', 64), LastSnapshotTime = WindowStart.AddMinutes(20) };

        await Reconciler().ReconcileAllAsync(CancellationToken.None);

        Assert.False(_store.Floors.ContainsKey(Box));
        Assert.Contains("names another box", Assert.Single(_logger.Events, e => e.EventId == 5132).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reconcile_LaunchOfABoxWithAFloor_UserDataCarriesTheFloorWithoutAllowRollback()
    {
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);
        var floor = new SnapshotFloor(new string('f', 64), WindowStart.AddDays(-1));
        _store.Floors[Box] = floor;

        var decision = Single(await Reconciler().ReconcileAllAsync(CancellationToken.None));

        Assert.Equal(ReconcileActions.Launch, decision.Action);
        Assert.Equal(new RollbackGuard(floor, AllowRollback: false), Assert.Single(_rollbackGuards));
    }

    /// <summary>The window's launch, seen running by a pass, and <paramref name="running"/> later; returns its id. Leaves no reconciler behind.</summary>
    private async Task<string> RunningForAsync(TimeSpan running)
    {
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);
        using (var starting = Reconciler())
        {
            await starting.ReconcileAllAsync(CancellationToken.None);
            var id = Run(0).InstanceId;
            _time.Advance(TimeSpan.FromSeconds(45));
            await starting.ReconcileAllAsync(CancellationToken.None);
            _time.Advance(running - TimeSpan.FromSeconds(45));
            _reconciler = null;
            return id;
        }
    }

    private BoxInstance Run(int index)
    {
        var running = _instances[index] with { State = InstanceState.Running };
        _instances[index] = running;
        return running;
    }

    /// <summary>Ends the instance now, as EC2 reports it: terminated, with the time in its StateTransitionReason (or <paramref name="at"/>).</summary>
    private void End(string id, StateReason? reason, DateTimeOffset? at = null)
    {
        var i = _instances.FindIndex(x => x.InstanceId == id);
        _instances[i] = _instances[i] with { State = InstanceState.Terminated, StateReason = reason, StateTransitionTime = at ?? _time.GetUtcNow() };
    }

    private AgentStatus Status(string instanceId, AgentState state) => new()
    {
        Box = Box,
        State = state,
        UpdatedAt = _time.GetUtcNow(),
        AgentVersion = "test",
        InstanceId = instanceId,
        SessionStart = WindowStart,
    };

    private static string ProfileArn(string name) => "arn:aws:iam::123456789012:instance-profile/" + name;

    private static BoxInstance Instance(string id, InstanceState state, DateTimeOffset launched) =>
        new(id, Box, "alice", "s", "m6i.large", "eu-central-1a", InstanceLifecycle.Spot, state, null, launched, "10.0.0.9", null, null);

    private async Task WaitForLaunchesAsync(int count)
    {
        for (var i = 0; i < 500 && _launches.Count < count; i++)
        {
            await Task.Delay(10);
        }

        Assert.Equal(count, _launches.Count);
    }

    private static BoxDecision Single(IReadOnlyList<BoxDecision> decisions) => Assert.Single(decisions);

    private Reconciler Reconciler()
    {
        var factory = new Mock<IComputeGatewayFactory>(MockBehavior.Strict);
        factory.Setup(f => f.ForRegion("eu-central-1")).Returns(_gateway.Object);
        var userData = new Mock<ILaunchUserData>(MockBehavior.Strict);
        userData.Setup(u => u.PrepareAsync(Box, It.IsAny<BoxOptions>(), It.IsAny<RollbackGuard>(), It.IsAny<CancellationToken>()))
            .Callback<string, BoxOptions, RollbackGuard, CancellationToken>((_, _, rollback, _) => _rollbackGuards.Add(rollback))
            .ReturnsAsync((Func<CpuArchitecture, string>)(a => $"#cloud-config {LaunchCandidates.Name(a)}"));
        var launcher = new BoxLauncher(factory.Object, new BoxLaunchGate(), _time, new RecordingLogger<BoxLauncher>());
        _reconciler = new Reconciler(Options.Create(_options), factory.Object, _store, _documents, userData.Object, launcher, new LaunchClaims(_claims, factory.Object, _time), new BudgetGuard(_ledger, _store, _time), _costs.Object, _time, _logger, _metrics, _ledger);
        return _reconciler;
    }
}
