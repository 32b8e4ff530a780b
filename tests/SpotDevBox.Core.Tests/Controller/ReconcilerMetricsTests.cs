using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Moq;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Controller;
using SpotDevBox.Core.Launch;
using SpotDevBox.Core.Savings;

namespace SpotDevBox.Core.Tests.Controller;

/// <summary>
/// The controller's metrics (docs/controller.md "Metrics"), read through OpenTelemetry's in-memory exporter after
/// passes of the reconciler on fake time: each metric's name, unit, labels and value, written by hand.
/// </summary>
public sealed partial class ReconcilerTests
{
    private readonly List<Metric> _exported = [];
    private ServiceProvider? _meterServices;
    private MeterProvider? _meterProvider;
    private ControllerMetrics? _metrics;

    [Fact]
    public async Task Metrics_StartOfTheWindow_CountsTheLaunchTheBoxPendingAndThePassDuration()
    {
        WithMetrics();
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);
        // The pass takes 2 s: DescribeInstances of the region answers after 2 s of fake time (the launch claim's own look is instant).
        _gateway.Setup(g => g.FindBoxInstancesAsync(It.IsAny<string?>(), It.IsAny<CancellationToken>()))
            .Returns<string?, CancellationToken>((b, _) =>
            {
                if (b is null)
                {
                    _time.Advance(TimeSpan.FromSeconds(2));
                }

                return Task.FromResult<IReadOnlyList<BoxInstance>>([.. _instances.Where(i => b is null || i.Box == b)]);
            });

        await Reconciler().ReconcileAllAsync(CancellationToken.None);

        var launches = Collect("spotdevbox.launches");
        Assert.Equal("{launch}", launches.Unit);
        Assert.Equal([("box=alice,outcome=launched,owner=alice,region=eu-central-1", 1d)], launches.Points);
        var boxes = Collect("spotdevbox.boxes");
        Assert.Equal("{box}", boxes.Unit);
        Assert.Equal(
            [
                ("region=eu-central-1,state=down", 0d),
                ("region=eu-central-1,state=pending", 1d),
                ("region=eu-central-1,state=running", 0d),
                ("region=eu-central-1,state=shutting-down", 0d),
                ("region=eu-central-1,state=stopping", 0d),
                ("region=eu-central-1,state=unknown", 0d),
            ],
            boxes.Points);
        var duration = Collect("spotdevbox.reconcile.duration");
        Assert.Equal("s", duration.Unit);
        Assert.Equal([("", 2d)], duration.Points);
    }

    [Fact]
    public async Task Metrics_SpotInterruptionInsideTheWindow_CountsItAndTheRelaunchLatencyFromWhenItEnded()
    {
        WithMetrics();
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);
        var reconciler = Reconciler();
        await reconciler.ReconcileAllAsync(CancellationToken.None);
        var first = Run(0);
        _time.Advance(TimeSpan.FromHours(3));
        // EC2 ended it 90 s before the pass that relaunches.
        End(first.InstanceId, new StateReason(StateReasonCodes.SpotInstanceTermination, "Server.SpotInstanceTermination: Spot instance termination"), _time.GetUtcNow().AddSeconds(-90));

        Assert.Equal(ReconcileActions.Relaunch, Single(await reconciler.ReconcileAllAsync(CancellationToken.None)).Action);

        var interruptions = Collect("spotdevbox.interruptions");
        Assert.Equal("{interruption}", interruptions.Unit);
        Assert.Equal([("box=alice,owner=alice,region=eu-central-1", 1d)], interruptions.Points);
        var latency = Collect("spotdevbox.relaunch.latency");
        Assert.Equal("s", latency.Unit);
        Assert.Equal([("box=alice,region=eu-central-1", 90d)], latency.Points);
        Assert.Equal([("box=alice,outcome=launched,owner=alice,region=eu-central-1", 2d)], Collect("spotdevbox.launches").Points);
    }

    [Fact]
    public async Task Metrics_LaunchClaimedByAnUp_CountedAsClaimed()
    {
        WithMetrics();
        await _store.SetLastRunAsync(WindowStart.AddSeconds(-45), CancellationToken.None);
        _claims.Put(Storage, new LaunchClaim { Box = Box, SessionId = "20261127T072955Z-0a1b2c", ClaimedBy = "alice", ClaimedAt = WindowStart.AddSeconds(-5), ExpiresAt = WindowStart.AddSeconds(-5) + LaunchClaims.Lifetime });

        await Reconciler().ReconcileAllAsync(CancellationToken.None);

        Assert.Equal([("box=alice,outcome=claimed,owner=alice,region=eu-central-1", 1d)], Collect("spotdevbox.launches").Points);
        Assert.Contains(("region=eu-central-1,state=down", 1d), Collect("spotdevbox.boxes").Points);
    }

    [Fact]
    public async Task Metrics_RunningBoxReportingASnapshotAndItsFigures_ExportsSnapshotAgeAndTheAgentsFigures()
    {
        WithMetrics();
        var id = await RunningForAsync(TimeSpan.FromHours(1));
        _documents.Statuses[Storage] = Status(id, AgentState.Running) with
        {
            LastSnapshotId = new string('a', 64),
            LastSnapshotTime = WindowStart.AddMinutes(50),
            LastBackupSeconds = 12.5,
            LastBackupBytesUploaded = 3_000_000,
            NoticeToDurableSeconds = 41,
        };

        await Reconciler().ReconcileAllAsync(CancellationToken.None);
        // Read at collection time: 08:30 UTC now, the snapshot of 08:20 UTC, then 5 minutes later.
        _time.Advance(TimeSpan.FromMinutes(5));

        var age = Collect("spotdevbox.snapshot.age");
        Assert.Equal("s", age.Unit);
        Assert.Equal([("box=alice,owner=alice", 900d)], age.Points);
        Assert.Contains(("region=eu-central-1,state=running", 1d), Collect("spotdevbox.boxes").Points);
        Assert.Equal("s|box=alice,owner=alice=12.5", Text(Collect("spotdevbox.agent.backup.duration")));
        Assert.Equal("By|box=alice,owner=alice=3000000", Text(Collect("spotdevbox.agent.backup.uploaded")));
        Assert.Equal("s|box=alice,owner=alice=41", Text(Collect("spotdevbox.agent.notice_to_durable.duration")));
    }

    [Fact]
    public async Task Metrics_FiguresOutOfBounds_NotExportedAndSaidOncePerBoxAndField()
    {
        WithMetrics();
        var id = await RunningForAsync(TimeSpan.FromHours(1));
        _documents.Statuses[Storage] = Status(id, AgentState.Running) with
        {
            LastBackupSeconds = -3,
            LastBackupBytesUploaded = long.MaxValue,
            NoticeToDurableSeconds = 41,
        };
        var reconciler = Reconciler();

        await reconciler.ReconcileAllAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(45));
        await reconciler.ReconcileAllAsync(CancellationToken.None);

        Assert.Empty(Collect("spotdevbox.agent.backup.duration").Points);
        Assert.Empty(Collect("spotdevbox.agent.backup.uploaded").Points);
        Assert.Equal([("box=alice,owner=alice", 41d)], Collect("spotdevbox.agent.notice_to_durable.duration").Points);
        Assert.Equal(
            [
                "Security: box alice: last_backup_bytes_uploaded in status.json is out of bounds and not exported as a metric; said once per box and field",
                "Security: box alice: last_backup_seconds in status.json is out of bounds and not exported as a metric; said once per box and field",
            ],
            _logger.Messages(5134).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Metrics_CostToday_TheLedgersShareOfTodayPlusTheOpenSessionAtItsPrice()
    {
        WithMetrics();
        // Closed yesterday 23:00 to today 01:00 UTC, $2.00 paid: half of it today.
        _ledger.Entries["i-0yesterday"] = new LedgerEntry(
            Box, "alice", "i-0yesterday", "eu-central-1", "m6i.large", "eu-central-1a", "spot",
            new DateTimeOffset(2026, 11, 26, 23, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 27, 1, 0, 0, TimeSpan.Zero),
            "idle", false, 7200, 7200, 1.90m, 0.20m, 0.05m, 0.05m, 2.00m, 30, 0.1m, [], [], WindowStart);
        // Launched at 07:30 UTC at $0.030 an hour (m6i.large in 1a), running for 2 h: $0.06.
        await RunningForAsync(TimeSpan.FromHours(2));

        await Reconciler().ReconcileAllAsync(CancellationToken.None);

        var cost = Collect("spotdevbox.cost.today");
        Assert.Equal("{USD}", cost.Unit);
        Assert.Equal([("box=alice,owner=alice", 1.06)], cost.Points.Select(p => (p.Labels, Math.Round(p.Value, 6))));
    }

    [Fact]
    public async Task Metrics_RegionUnreachable_TheBoxIsUnknown()
    {
        WithMetrics();
        _gateway.Setup(g => g.FindBoxInstancesAsync(It.IsAny<string?>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new ComputeException(ComputeFailure.Unavailable, "throttled"));

        await Reconciler().ReconcileAllAsync(CancellationToken.None);

        Assert.Contains(("region=eu-central-1,state=unknown", 1d), Collect("spotdevbox.boxes").Points);
    }

    private void WithMetrics()
    {
        _meterServices = new ServiceCollection().AddMetrics().BuildServiceProvider();
        _meterProvider = Sdk.CreateMeterProviderBuilder().AddMeter(ControllerMetrics.MeterName).AddInMemoryExporter(_exported).Build();
        _metrics = new ControllerMetrics(_meterServices.GetRequiredService<IMeterFactory>(), _time);
    }

    private void DisposeMetrics()
    {
        _meterProvider?.Dispose();
        _meterServices?.Dispose();
    }

    private static string Text((string Unit, List<(string Labels, double Value)> Points) m) =>
        m.Unit + "|" + string.Join(';', m.Points.Select(p => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{p.Labels}={p.Value}")));

    /// <summary>The metric as the exporter has it now: its unit, and each point's labels (sorted, "k=v,...") and value (a histogram's: its sum).</summary>
    private (string Unit, List<(string Labels, double Value)> Points) Collect(string name)
    {
        _exported.Clear();
        Assert.True(_meterProvider!.ForceFlush());
        var metric = _exported.SingleOrDefault(m => m.Name == name);
        if (metric is null)
        {
            return ("", []);
        }

        var points = new List<(string, double)>();
        foreach (ref readonly var p in metric.GetMetricPoints())
        {
            var labels = new List<string>();
            foreach (var tag in p.Tags)
            {
                labels.Add($"{tag.Key}={tag.Value}");
            }

            var value = metric.MetricType switch
            {
                MetricType.LongSum => p.GetSumLong(),
                MetricType.DoubleSum => p.GetSumDouble(),
                MetricType.LongGauge => p.GetGaugeLastValueLong(),
                MetricType.DoubleGauge => p.GetGaugeLastValueDouble(),
                MetricType.Histogram => p.GetHistogramSum(),
                _ => throw new InvalidOperationException($"{name}: {metric.MetricType}"),
            };
            points.Add((string.Join(',', labels.Order(StringComparer.Ordinal)), value));
        }

        return (metric.Unit, [.. points.OrderBy(p => p.Item1, StringComparer.Ordinal)]);
    }
}
