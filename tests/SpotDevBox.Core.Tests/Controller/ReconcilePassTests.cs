using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Moq;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Controller;
using SpotDevBox.Core.Launch;
using SpotDevBox.Core.Savings;
using SpotDevBox.Core.Tests.Launch;

namespace SpotDevBox.Core.Tests.Controller;

/// <summary>A pass over many boxes: boxes reconciled side by side with a bound, the month's spending read once, decisions in box order.</summary>
public sealed class ReconcilePassTests
{
    private const int Boxes = 24;
    private const string Region = "eu-central-1";

    // A Saturday: every box is outside its Mon-Fri window, so a pass reads documents, tracks sessions and checks budgets, and launches nothing.
    private static readonly DateTimeOffset Saturday = new(2026, 11, 28, 10, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Saturday);
    private readonly InMemoryControllerStore _store = new();
    private readonly InMemoryLedger _ledger = new();
    private readonly FakeBoxDocuments _documents = new();
    private readonly ControllerOptions _options = new();
    private readonly RecordingLogger<Reconciler> _logger = new();

    public ReconcilePassTests()
    {
        for (var i = 0; i < Boxes; i++)
        {
            var box = new BoxOptions
            {
                Owner = i % 2 == 0 ? "alice" : "bob",
                Region = Region,
                ImageId = "ami-0abcdef1234567890",
                Storage = $"s3://my-bucket/team/{Name(i)}",
                User = "dev",
                OnDemandFallback = false,
                MonthlyBudget = 50m,
            };
            box.InstanceTypes.Add("m6i.large");
            box.Subnets.Add("subnet-0aaa1111");
            box.Schedule.TimeZone = "Europe/Berlin";
            box.Schedule.Periods.Add("Mon-Fri 08:30-19:00");
            _options.Boxes[Name(i)] = box;
        }

        // Box 3 spent $60 of its $50 this month.
        _ledger.Entries["i-03"] = Entry(Name(3), "bob", 60m);
    }

    [Fact]
    public async Task ReconcileAll_ManyBoxesWithBudgets_ReadsTheMonthsSpendingOnceNotOncePerBox()
    {
        var decisions = await Reconciler().ReconcileAllAsync(CancellationToken.None);

        Assert.Equal(Boxes, decisions.Count(d => d.Action != ReconcileActions.BudgetWarning));
        Assert.Equal(1, _ledger.Queries);
        // The budget's one read of the open sessions, and one per box by the session tracker (its own box's sessions).
        Assert.Equal(Boxes + 1, _store.OpenSessionQueries);
    }

    [Fact]
    public async Task ReconcileAll_OneBoxOverBudget_WarnsForThatBoxAlone()
    {
        await Reconciler().ReconcileAllAsync(CancellationToken.None);

        var warning = Assert.Single(_store.Decisions, d => d.Action == ReconcileActions.BudgetWarning);
        Assert.Equal(Name(3), warning.Box);
        Assert.StartsWith($"box {Name(3)}: $60.00 of its $50.00 budget for 2026-11 (120%)", warning.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReconcileAll_DocumentsTakeTime_BoxesAreReconciledSideBySideWithinTheBound()
    {
        _documents.ReadLatency = TimeSpan.FromMilliseconds(30);

        var decisions = await Reconciler().ReconcileAllAsync(CancellationToken.None);

        Assert.InRange(_documents.MaxReadsInFlight, 2, SpotDevBox.Core.Controller.Reconciler.PassConcurrency);
        Assert.Equal(
            Enumerable.Range(0, Boxes).Select(Name),
            decisions.Where(d => d.Action != ReconcileActions.BudgetWarning).Select(d => d.Box));
    }

    [Fact]
    public async Task ReconcileBox_OneBox_ChecksItsBudgetOnItsOwn()
    {
        await Reconciler().ReconcileBoxAsync(Name(3), CancellationToken.None);

        Assert.Equal(1, _ledger.Queries);
        Assert.Equal(Name(3), Assert.Single(_store.Decisions, d => d.Action == ReconcileActions.BudgetWarning).Box);
    }

    [Fact]
    public async Task ReconcileAll_PassWithinHalfTheInterval_SaysHowLongItTookAtDebugOnly()
    {
        await Reconciler().ReconcileAllAsync(CancellationToken.None);

        var took = Assert.Single(_logger.Events, e => e.EventId is 5112 or 5113);
        Assert.Equal((5112, LogLevel.Debug, $"Reconcile pass over {Boxes} boxes took 0 s"), took);
    }

    [Fact]
    public async Task ReconcileAll_PassLongerThanHalfTheInterval_WarnsNamingTheSetting()
    {
        // Every reading of the clock moves it a second on: the pass takes far more than half of 45 s.
        _time.AutoAdvanceAmount = TimeSpan.FromSeconds(1);

        await Reconciler().ReconcileAllAsync(CancellationToken.None);

        var slow = Assert.Single(_logger.Events, e => e.EventId is 5112 or 5113);
        Assert.Equal(5113, slow.EventId);
        Assert.Equal(LogLevel.Warning, slow.Level);
        Assert.Matches($"^Reconcile pass over {Boxes} boxes took [0-9.]+ s, more than half of Controller:Reconcile:Interval \\(45s\\)", slow.Message);
    }

    private static string Name(int i) => "box" + i.ToString("00", CultureInfo.InvariantCulture);

    private static LedgerEntry Entry(string box, string owner, decimal paid) =>
        new(box, owner, "i-03", Region, "m6i.large", "eu-central-1a", "spot", Saturday.AddDays(-3), Saturday.AddDays(-3).AddHours(8), "schedule", false,
            8 * 3600, 8 * 3600, paid, paid * 3, 0m, 0m, paid, 40, 0.1m, [], [], Saturday.AddDays(-3).AddHours(8));

    private Reconciler Reconciler()
    {
        var gateway = new Mock<IComputeGateway>(MockBehavior.Strict);
        gateway.SetupGet(g => g.Region).Returns(Region);
        gateway.Setup(g => g.FindBoxInstancesAsync(It.IsAny<string?>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((IReadOnlyList<BoxInstance>)[]);
        var factory = new Mock<IComputeGatewayFactory>(MockBehavior.Strict);
        factory.Setup(f => f.ForRegion(Region)).Returns(gateway.Object);
        var userData = new Mock<ILaunchUserData>(MockBehavior.Strict);
        var launcher = new BoxLauncher(factory.Object, new BoxLaunchGate(), _time, new RecordingLogger<BoxLauncher>());
        return new Reconciler(
            Options.Create(_options), factory.Object, _store, _documents, userData.Object, launcher,
            new LaunchClaims(new InMemoryLaunchClaimStore(), factory.Object, _time), new BudgetGuard(_ledger, _store, _time),
            new Mock<ISessionCostRecorder>().Object, _time, _logger);
    }
}
