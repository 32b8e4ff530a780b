using SpotDevBox.Core.Savings;

namespace SpotDevBox.Core.Tests.Savings;

/// <summary>
/// The ledger's spot charge per UTC clock hour, each expected amount worked out by hand:
/// USD per hour / 3600 x the seconds of the hour at that price.
/// </summary>
public sealed class HourlySpotCostTests
{
    private static readonly DateTimeOffset Nine = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Ten = Nine.AddHours(1);
    private static readonly DateTimeOffset Eleven = Nine.AddHours(2);
    private static readonly DateTimeOffset Day = new(2026, 11, 27, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Attribute_PriceChangeMidHour_EachStretchAtItsOwnPrice()
    {
        // 09:00-09:40 at 0.0416/h = 0.0416 x 2/3 = 0.027733...; 09:40-10:00 at 0.0392/h = 0.0392 / 3 = 0.013066...; together 0.0408.
        var entry = Spot("i-1", Nine, Ten, new PriceSegment(Nine, Nine.AddMinutes(40), 0.0416m), new PriceSegment(Nine.AddMinutes(40), Ten, 0.0392m));

        var hour = Assert.Single(HourlySpotCost.Attribute(entry, Day, Day.AddDays(1)));

        Assert.Equal(Nine, hour.Hour);
        Assert.Equal(0.0408m, Math.Round(hour.Usd!.Value, 12));
    }

    [Fact]
    public void Attribute_From0920To1105_FortyMinutesAWholeHourAndFiveMinutes()
    {
        // At 0.036/h: 40 min = 0.024, 60 min = 0.036, 5 min = 0.003 (0.063 in all = 105 min x 0.036 / 60).
        var entry = Spot("i-1", Nine.AddMinutes(20), Eleven.AddMinutes(5), new PriceSegment(Nine, Eleven.AddHours(1), 0.036m));

        var hours = HourlySpotCost.Attribute(entry, Day, Day.AddDays(1));

        Assert.Equal([Nine, Ten, Eleven], hours.Select(h => h.Hour));
        Assert.Equal([0.024m, 0.036m, 0.003m], hours.Select(h => Math.Round(h.Usd!.Value, 12)));
    }

    [Fact]
    public void Attribute_InterruptedByEc2WithinTheFirstHour_NothingInAnyHour()
    {
        // 09:20-10:10 (50 min) reclaimed by EC2: AWS charges nothing, in both hours it touched.
        var entry = Spot("i-1", Nine.AddMinutes(20), Ten.AddMinutes(10), new PriceSegment(Nine, Eleven, 0.036m)) with { InterruptedByEc2 = true };

        var hours = HourlySpotCost.Attribute(entry, Day, Day.AddDays(1));

        Assert.Equal([(Nine, (decimal?)0m), (Ten, 0m)], hours.Select(h => (h.Hour, h.Usd)));
    }

    [Fact]
    public void Attribute_StoppedByTheOwnerWithinTheFirstHour_ChargedPerSecond()
    {
        // The same 50 minutes ended by the owner: 40 min = 0.024, 10 min = 0.006.
        var entry = Spot("i-1", Nine.AddMinutes(20), Ten.AddMinutes(10), new PriceSegment(Nine, Eleven, 0.036m));

        var hours = HourlySpotCost.Attribute(entry, Day, Day.AddDays(1));

        Assert.Equal([0.024m, 0.006m], hours.Select(h => Math.Round(h.Usd!.Value, 12)));
    }

    [Fact]
    public void Attribute_InterruptedByEc2AfterTheFirstHour_ChargedPerSecond()
    {
        // 09:20-10:25 (65 min): past the first hour, so every second counts: 40 min = 0.024, 25 min = 0.015.
        var entry = Spot("i-1", Nine.AddMinutes(20), Ten.AddMinutes(25), new PriceSegment(Nine, Eleven, 0.036m)) with { InterruptedByEc2 = true };

        var hours = HourlySpotCost.Attribute(entry, Day, Day.AddDays(1));

        Assert.Equal([0.024m, 0.015m], hours.Select(h => Math.Round(h.Usd!.Value, 12)));
    }

    [Fact]
    public void Attribute_UnderSixtySeconds_TheMissingSecondsGoToTheFirstHour()
    {
        // 09:59:30-10:00:10 (40 s) billed as 60 s at 0.036/h (0.00001/s): 09:00 gets its 30 s + the 20 s short = 0.0005; 10:00 its 10 s = 0.0001.
        // The ledger's segment ends with the session: its price holds for the 20 s after the end.
        var entry = Spot("i-1", Ten.AddSeconds(-30), Ten.AddSeconds(10), new PriceSegment(Ten.AddSeconds(-30), Ten.AddSeconds(10), 0.036m));

        var hours = HourlySpotCost.Attribute(entry, Day, Day.AddDays(1));

        Assert.Equal([(Nine, (decimal?)0.0005m), (Ten, 0.0001m)], hours.Select(h => (h.Hour, h.Usd is { } u ? Math.Round(u, 12) : (decimal?)null)));
    }

    [Fact]
    public void Attribute_UnderSixtySecondsAndThePriceChangesBeforeTheMinute_TheMissingSecondsAtTheirOwnPrices()
    {
        // The same 40 s; the price doubles to 0.072/h at 10:00:20. The 20 s short: 10 s at 0.036 (0.0001) + 10 s at 0.072 (0.0002),
        // so 09:00 gets 0.0003 + 0.0003 = 0.0006 and 10:00 its own 10 s at 0.036 = 0.0001.
        var entry = Spot("i-1", Ten.AddSeconds(-30), Ten.AddSeconds(10), new PriceSegment(Nine, Ten.AddSeconds(20), 0.036m), new PriceSegment(Ten.AddSeconds(20), Eleven, 0.072m));

        var hours = HourlySpotCost.Attribute(entry, Day, Day.AddDays(1));

        Assert.Equal([(Nine, (decimal?)0.0006m), (Ten, 0.0001m)], hours.Select(h => (h.Hour, h.Usd is { } u ? Math.Round(u, 12) : (decimal?)null)));
    }

    [Fact]
    public void Attribute_FractionsOfASecond_DroppedAsTheLedgerDoes()
    {
        // 09:20:00.6-09:22:00.4 counts as 09:20:00-09:22:00: 120 whole seconds at 0.036/h = 0.0012 (not 119.8 s = 0.001198).
        var entry = Spot("i-1", Nine.AddMinutes(20).AddMilliseconds(600), Nine.AddMinutes(22).AddMilliseconds(400), new PriceSegment(Nine, Eleven, 0.036m));

        Assert.Equal(0.0012m, Assert.Single(HourlySpotCost.Attribute(entry, Day, Day.AddDays(1))).Usd);
    }

    [Fact]
    public void Attribute_SixtySecondsOrMore_NoMinimumAdded()
    {
        // Exactly 60 s at 0.036/h = 0.0006: the minimum adds nothing.
        var entry = Spot("i-1", Nine.AddMinutes(10), Nine.AddMinutes(11), new PriceSegment(Nine, Eleven, 0.036m));

        Assert.Equal(0.0006m, Math.Round(Assert.Single(HourlySpotCost.Attribute(entry, Day, Day.AddDays(1))).Usd!.Value, 12));
    }

    [Fact]
    public void Attribute_PriceUnknownForPartOfAnHour_ThatHourIsUnpriced()
    {
        // The segments stop at 09:30: the 09:00 hour cannot be priced; the ledger says so rather than guess.
        var entry = Spot("i-1", Nine, Nine.AddMinutes(45), new PriceSegment(Nine, Nine.AddMinutes(30), 0.036m));

        Assert.Null(Assert.Single(HourlySpotCost.Attribute(entry, Day, Day.AddDays(1))).Usd);
    }

    [Fact]
    public void Attribute_Window_OnlyTheHoursInside()
    {
        var entry = Spot("i-1", Nine.AddMinutes(20), Eleven.AddMinutes(5), new PriceSegment(Nine, Eleven.AddHours(1), 0.036m));

        var hours = HourlySpotCost.Attribute(entry, Ten, Eleven);

        Assert.Equal([(Ten, (decimal?)0.036m)], hours.Select(h => (h.Hour, h.Usd is { } u ? Math.Round(u, 12) : (decimal?)null)));
    }

    [Fact]
    public void Attribute_OnDemand_NoSpotHours()
    {
        var entry = Spot("i-1", Nine, Eleven) with { Lifecycle = "on-demand" };

        Assert.Empty(HourlySpotCost.Attribute(entry, Day, Day.AddDays(1)));
    }

    internal static LedgerEntry Spot(string instanceId, DateTimeOffset start, DateTimeOffset end, params PriceSegment[] segments) => new(
        "alice", "alice", instanceId, "us-east-1", "m7i.large", "us-east-1a", "spot", start, end, "idle", false,
        (long)(end - start).TotalSeconds, (long)(end - start).TotalSeconds, null, null, null, null, null, 30, 0.1008m, segments, [], end);
}
