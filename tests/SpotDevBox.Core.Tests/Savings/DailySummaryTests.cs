using Moq;
using SpotDevBox.Core.Boxes;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Savings;
using SpotDevBox.Core.Tests.Controller;
using SpotDevBox.Core.Tests.Launch;

namespace SpotDevBox.Core.Tests.Savings;

/// <summary>
/// The daily summary events. Prices by hand: on-demand 0.10/h; gp3 0.08 per GB-month with 30 GiB volumes,
/// November's 720 h: 30 x 0.08 / 720 = 0.0033333 per hour; no repository bytes (S3 0).
/// </summary>
public sealed class DailySummaryTests
{
    private static readonly DateTimeOffset Day = new(2026, 11, 26, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Log_OneBoxUsedEightHoursAnotherIdle_OneEventPerBoxAndOneForTheFleetWithHandComputedFigures()
    {
        var ledger = new InMemoryLedger();
        var inputs = new SessionCostInputs(
            "alice", "alice", "i-0a", "us-east-1", "m7i.large", "us-east-1a", InstanceLifecycle.Spot, Day.AddHours(9), Day.AddHours(17), "idle", false,
            [new SpotPricePoint("m7i.large", "us-east-1a", SpotPriceQuery.LinuxUnix, 0.04m, Day)],
            new PriceQuote(0.10m, "test"), new PriceQuote(0.08m, "test"), 30, new PriceQuote(0.023m, "test"), 0);
        await ledger.RecordAsync(LedgerEntry.From(inputs, SessionCostCalculator.Compute(inputs), Day.AddHours(17)), CancellationToken.None);
        var logger = new RecordingLogger<DailySummary>();
        var options = new ControllerOptions();
        options.Boxes["alice"] = Box("alice");
        options.Boxes["bob"] = Box("bob");

        var sizes = new Mock<IRepositorySizes>();
        sizes.Setup(z => z.BytesAsync("s3://b/bob", It.IsAny<CancellationToken>())).ReturnsAsync(0L);
        var summaries = await new DailySummary(ledger, OnDemand(), Storage(), sizes.Object, logger).LogAsync(DateOnly.FromDateTime(Day.UtcDateTime), options, CancellationToken.None);

        Assert.Equal(["alice", "bob", "*"], summaries.Select(s => s.Box));
        var alice = summaries[0].Summary;
        // Paid: 8 h x 0.04 = 0.32 + EBS 8 h x 0.0033333 = 0.026667 -> 0.346667.
        Assert.Equal(0.346667m, alice.Paid.Usd);
        // Same hours on-demand: 8 h x 0.10 = 0.80 + 0.026667.
        Assert.Equal(0.826667m, alice.SameHoursOnDemand.Usd);
        // Around the clock: 24 h x 0.10 = 2.40 + EBS 24 h = 0.08.
        Assert.Equal(2.48m, alice.AlwaysOnOnDemand.Usd);
        // bob's repository is listed (no session recorded its size): empty, so nothing paid.
        Assert.Equal(0m, summaries[1].Summary.Paid.Usd);
        Assert.Equal(4.96m, summaries[2].Summary.AlwaysOnOnDemand.Usd);
        var events = logger.Events.Where(e => e.EventId == 5210).Select(e => e.Message).ToList();
        Assert.Equal(3, events.Count);
        Assert.StartsWith("Savings on 2026-11-26 (UTC) for alice: 1 sessions; paid 0.346667", events[0], StringComparison.Ordinal);
        Assert.Contains("complete: True", events[2], StringComparison.Ordinal);
    }

    private static BoxOptions Box(string name)
    {
        var box = new BoxOptions { Owner = name, Region = "us-east-1", RootVolumeGiB = 30, RootVolumeType = "gp3", Storage = $"s3://b/{name}" };
        box.InstanceTypes.Add("m7i.large");
        return box;
    }

    private static IOnDemandPrices OnDemand()
    {
        var prices = new Mock<IOnDemandPrices>();
        prices.Setup(p => p.PerHour("us-east-1", "m7i.large")).Returns(new PriceQuote(0.10m, "test"));
        return prices.Object;
    }

    private static IStoragePrices Storage()
    {
        var prices = new Mock<IStoragePrices>();
        prices.Setup(p => p.EbsPerGbMonth("us-east-1", "gp3")).Returns(new PriceQuote(0.08m, "test"));
        prices.Setup(p => p.S3StandardPerGbMonth("us-east-1")).Returns(new PriceQuote(0.023m, "test"));
        return prices.Object;
    }
}
