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
        sizes.Setup(z => z.BytesAsync("s3://my-bucket/boxes/bob/bob", It.IsAny<CancellationToken>())).ReturnsAsync(0L);
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

    [Fact]
    public async Task Log_BoxNoLongerConfiguredWithAPricedSession_PricedFromItsLatestEntryAndTheFleetIsComplete()
    {
        var ledger = new InMemoryLedger();
        await RecordAsync(ledger, "alice", "i-0a");
        // carol was removed from the configuration after her session was costed.
        await RecordAsync(ledger, "carol", "i-0c");
        var logger = new RecordingLogger<DailySummary>();
        var options = new ControllerOptions();
        options.Boxes["alice"] = Box("alice");

        var summaries = await new DailySummary(ledger, OnDemand(), Storage(), Mock.Of<IRepositorySizes>(), logger).LogAsync(DateOnly.FromDateTime(Day.UtcDateTime), options, CancellationToken.None);

        Assert.Equal(["alice", "carol", "*"], summaries.Select(s => s.Box));
        // carol from her entry: m7i.large at 0.10/h on-demand, 30 GiB gp3 at 0.08: as alice, 2.48 around the clock.
        Assert.Equal(2.48m, summaries[1].Summary.AlwaysOnOnDemand.Usd);
        var fleet = summaries[2].Summary;
        Assert.True(fleet.IsComplete);
        Assert.Equal((0.693334m, 4.96m), (fleet.Paid.Usd, fleet.AlwaysOnOnDemand.Usd));
        Assert.EndsWith("complete: True; incomplete boxes: none", logger.Events.Where(e => e.EventId == 5210).Last().Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Log_OneBoxWithoutAnOnDemandPrice_OnlyThatBoxIsIncompleteAndTheFleetNamesIt()
    {
        var ledger = new InMemoryLedger();
        await RecordAsync(ledger, "alice", "i-0a");
        var logger = new RecordingLogger<DailySummary>();
        var options = new ControllerOptions();
        options.Boxes["alice"] = Box("alice");
        options.Boxes["bob"] = Box("bob");
        options.Boxes["bob"].InstanceTypes[0] = "x9.huge";
        var sizes = new Mock<IRepositorySizes>();
        sizes.Setup(z => z.BytesAsync("s3://my-bucket/boxes/bob/bob", It.IsAny<CancellationToken>())).ReturnsAsync(0L);

        var summaries = await new DailySummary(ledger, OnDemand(), Storage(), sizes.Object, logger).LogAsync(DateOnly.FromDateTime(Day.UtcDateTime), options, CancellationToken.None);

        Assert.True(summaries[0].Summary.IsComplete);
        Assert.Equal(2.48m, summaries[0].Summary.AlwaysOnOnDemand.Usd);
        Assert.False(summaries[1].Summary.IsComplete);
        var events = logger.Events.Where(e => e.EventId == 5210).Select(e => e.Message).ToList();
        Assert.EndsWith("complete: True; incomplete boxes: none", events[0], StringComparison.Ordinal);
        Assert.EndsWith("complete: False; incomplete boxes: bob", events[1], StringComparison.Ordinal);
        Assert.EndsWith("complete: False; incomplete boxes: bob", events[2], StringComparison.Ordinal);
    }

    /// <summary>A session 09:00-17:00 of the day: spot m7i.large at 0.04, on-demand 0.10, 30 GiB gp3, empty repository.</summary>
    private static async Task RecordAsync(InMemoryLedger ledger, string box, string instanceId)
    {
        var inputs = new SessionCostInputs(
            box, box, instanceId, "us-east-1", "m7i.large", "us-east-1a", InstanceLifecycle.Spot, Day.AddHours(9), Day.AddHours(17), "idle", false,
            [new SpotPricePoint("m7i.large", "us-east-1a", SpotPriceQuery.LinuxUnix, 0.04m, Day)],
            new PriceQuote(0.10m, "test"), new PriceQuote(0.08m, "test"), 30, new PriceQuote(0.023m, "test"), 0);
        await ledger.RecordAsync(LedgerEntry.From(inputs, SessionCostCalculator.Compute(inputs), Day.AddHours(17)), CancellationToken.None);
    }

    private static BoxOptions Box(string name)
    {
        var box = new BoxOptions { Owner = name, Region = "us-east-1", RootVolumeGiB = 30, RootVolumeType = "gp3", Storage = $"s3://my-bucket/boxes/{name}/{name}" };
        box.InstanceTypes.Add("m7i.large");
        return box;
    }

    private static IOnDemandPrices OnDemand()
    {
        var prices = new Mock<IOnDemandPrices>();
        prices.Setup(p => p.PerHour("us-east-1", "m7i.large")).Returns(new PriceQuote(0.10m, "test"));
        prices.Setup(p => p.PerHour("us-east-1", "x9.huge")).Returns(PriceQuote.Unknown("on-demand price for x9.huge in us-east-1 unknown"));
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
