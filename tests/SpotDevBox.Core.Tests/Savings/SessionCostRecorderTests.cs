using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Moq;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Controller;
using SpotDevBox.Core.Savings;
using SpotDevBox.Core.Tests.Controller;
using SpotDevBox.Core.Tests.Launch;

namespace SpotDevBox.Core.Tests.Savings;

/// <summary>
/// The ledger entry written when a session ends. Prices by hand: m7i.large spot 0.04 then 0.05 from 10:30,
/// on-demand 0.1008; 40 GiB gp3 at 0.08 per GB-month; a 2 GiB repository at 0.023 per GB-month; November has 720 h.
/// </summary>
public sealed class SessionCostRecorderTests
{
    private static readonly DateTimeOffset Nine = new(2026, 11, 26, 9, 0, 0, TimeSpan.Zero);
    private readonly Mock<IComputeGateway> _gateway = new(MockBehavior.Strict);
    private readonly Mock<IOnDemandPrices> _onDemand = new();
    private readonly Mock<IStoragePrices> _storage = new();
    private readonly Mock<IRepositorySizes> _sizes = new();
    private readonly InMemoryLedger _ledger = new();
    private readonly RecordingLogger<SessionCostRecorder> _logger = new();
    private SpotPriceQuery? _asked;

    public SessionCostRecorderTests()
    {
        _gateway.Setup(g => g.DescribeSpotPricesAsync(It.IsAny<SpotPriceQuery>(), It.IsAny<CancellationToken>()))
            .Callback<SpotPriceQuery, CancellationToken>((q, _) => _asked = q)
            .ReturnsAsync(new SpotPriceHistory(
            [
                new("m7i.large", "eu-central-1a", SpotPriceQuery.LinuxUnix, 0.04m, Nine.AddHours(-5)),
                new("m7i.large", "eu-central-1a", SpotPriceQuery.LinuxUnix, 0.05m, Nine.AddMinutes(90)),
            ]));
        _onDemand.Setup(p => p.PerHour("eu-central-1", "m7i.large")).Returns(new PriceQuote(0.1008m, "table"));
        _storage.Setup(p => p.EbsPerGbMonth("eu-central-1", "gp3")).Returns(new PriceQuote(0.08m, "table"));
        _storage.Setup(p => p.S3StandardPerGbMonth("eu-central-1")).Returns(new PriceQuote(0.023m, "table"));
        _sizes.Setup(s => s.BytesAsync("s3://my-bucket/boxes/alice/alice", It.IsAny<CancellationToken>())).ReturnsAsync(2L * 1_073_741_824);
    }

    [Fact]
    public async Task Record_EndedSpotSession_StoresTheHandComputedCostAndLogsOneStructuredEvent()
    {
        // 09:00 to 12:00: 1.5 h at 0.04 + 1.5 h at 0.05.
        var entry = await Recorder().RecordAsync(Session(Nine.AddHours(3), "idle"), Box(), CancellationToken.None);

        Assert.NotNull(entry);
        Assert.Equal(0.135m, entry.InstanceCost);            // 0.06 + 0.075
        Assert.Equal(0.3024m, entry.OnDemandCost);           // 3 h x 0.1008
        Assert.Equal(0.013333m, entry.EbsCost);               // 40 x 0.08 / 720 x 3 = 0.0133333 -> 6 places
        Assert.Equal(0.000192m, entry.S3Cost);               // 2 x 0.023 / 720 x 3 = 0.00019166 -> 0.000192
        Assert.Equal(0.148525m, entry.Paid);                 // 0.135 + 0.013333 + 0.000192
        Assert.Same(entry, _ledger.Entries["i-0a11ce"]);
        Assert.Equal((Nine, Nine.AddHours(3)), (_asked!.Since, _asked.Until!.Value));
        Assert.Equal(["m7i.large"], _asked.InstanceTypes);
        Assert.Equal(["eu-central-1a"], _asked.AvailabilityZones!);
        var logged = Assert.Single(_logger.Events, e => e.EventId == 5200);
        Assert.Equal(LogLevel.Information, logged.Level);
        Assert.Contains("paid 0.148525", logged.Message, StringComparison.Ordinal);
        Assert.Contains("unknown: none", logged.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Record_FirstHourInterruption_CostsNothingButShowsTheOnDemandComparison()
    {
        var entry = await Recorder().RecordAsync(Session(Nine.AddMinutes(50), SessionEndings.Interruption), Box(), CancellationToken.None);

        Assert.Equal(0m, entry!.InstanceCost);
        Assert.True(entry.InterruptedByEc2);
        Assert.Equal(0.084m, entry.OnDemandCost);             // 50 min x 0.1008 / 60
    }

    [Fact]
    public async Task Record_HistoryUnreadableAndNoOnDemandPrice_RecordsUnknownsNamedAndNothingInvented()
    {
        _gateway.Setup(g => g.DescribeSpotPricesAsync(It.IsAny<SpotPriceQuery>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new ComputeException(ComputeFailure.Unauthorized, "not allowed: ec2:DescribeSpotPriceHistory"));
        _onDemand.Setup(p => p.PerHour("eu-central-1", "m7i.large")).Returns(PriceQuote.Unknown("no on-demand table for eu-central-1: run spotdevbox prices refresh --region eu-central-1"));

        var entry = await Recorder().RecordAsync(Session(Nine.AddHours(3), "idle"), Box(), CancellationToken.None);

        Assert.Null(entry!.InstanceCost);
        Assert.Null(entry.OnDemandCost);
        Assert.Null(entry.Paid);
        Assert.Contains(entry.Unknowns, u => u.Contains("spotdevbox prices refresh --region eu-central-1", StringComparison.Ordinal));
        Assert.Contains(_logger.Events, e => e.EventId == 5201 && e.Message.Contains("ec2:DescribeSpotPriceHistory", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Record_OpenSession_NothingStored()
    {
        var open = Session(Nine.AddHours(3), "idle") with { End = null, EndedBy = null };

        Assert.Null(await Recorder().RecordAsync(open, Box(), CancellationToken.None));
        Assert.Empty(_ledger.Entries);
    }

    private static SessionRow Session(DateTimeOffset end, string endedBy) =>
        new("alice", "i-0a11ce", "s1", "eu-central-1", "alice", "m7i.large", "eu-central-1a", InstanceLifecycle.Spot, 0.04m, Nine, end, endedBy);

    private static BoxOptions Box() => new() { Owner = "alice", Region = "eu-central-1", Storage = "s3://my-bucket/boxes/alice/alice", RootVolumeGiB = 40, RootVolumeType = "gp3" };

    private SessionCostRecorder Recorder()
    {
        var factory = new Mock<IComputeGatewayFactory>();
        factory.Setup(f => f.ForRegion("eu-central-1")).Returns(_gateway.Object);
        return new SessionCostRecorder(factory.Object, _onDemand.Object, _storage.Object, _sizes.Object, _ledger, new FakeTimeProvider(Nine.AddHours(4)), _logger);
    }
}
