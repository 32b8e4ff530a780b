using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Savings;

namespace SpotDevBox.Core.Tests.Savings;

/// <summary>Expected dollars are worked out by hand in the comments: USD per hour × seconds / 3600.</summary>
public sealed class SpotCostTests
{
    private static DateTimeOffset Utc(int month, int day, int hour, int minute = 0, int second = 0) => new(2026, month, day, hour, minute, second, TimeSpan.Zero);

    private static SpotPricePoint Point(decimal usdPerHour, DateTimeOffset at, string zone = "us-east-1a", string type = "m7i.large") =>
        new(type, zone, "Linux/UNIX", usdPerHour, at);

    [Fact]
    public void Integrate_PriceChangeMidSession_EachPriceFromItsTimestamp()
    {
        SpotPricePoint[] history =
        [
            Point(0.0400m, Utc(6, 8, 5)),
            Point(0.0100m, Utc(6, 8, 7), zone: "us-east-1b"),   // another pool: ignored
            Point(0.0200m, Utc(6, 8, 7), type: "t3.large"),     // another type: ignored
            Point(0.0520m, Utc(6, 8, 8, 15)),
            Point(0.0900m, Utc(6, 8, 9)),                       // at the end: applies from 09:00, after the session
        ];

        var charge = SpotCost.Integrate(history, "m7i.large", "us-east-1a", Utc(6, 8, 6, 30), Utc(6, 8, 9));

        // 06:30-08:15 = 6300 s at 0.0400: 0.04 × 6300 / 3600 = 0.04 × 1.75 = 0.07
        // 08:15-09:00 = 2700 s at 0.0520: 0.052 × 2700 / 3600 = 0.052 × 0.75 = 0.039
        // total 0.109
        Assert.True(charge.IsKnown);
        Assert.Equal(0.109m, charge.Usd);
        Assert.Equal(9000, charge.Seconds);
        Assert.Collection(
            charge.Segments,
            s =>
            {
                Assert.Equal((Utc(6, 8, 6, 30), Utc(6, 8, 8, 15), 0.0400m, 6300L, 0.07m), (s.From, s.To, s.UsdPerHour, s.Seconds, s.Usd));
            },
            s =>
            {
                Assert.Equal((Utc(6, 8, 8, 15), Utc(6, 8, 9), 0.0520m, 2700L, 0.039m), (s.From, s.To, s.UsdPerHour, s.Seconds, s.Usd));
            });
    }

    [Fact]
    public void Integrate_PriceInEffectAtStart_IsTheLastPointBeforeIt()
    {
        // Newest first, as a caller might pass them; the 0.0312 of the day before was replaced at 03:00.
        SpotPricePoint[] history =
        [
            Point(0.0290m, Utc(6, 8, 3)),
            Point(0.0312m, Utc(6, 7, 22, 41, 7)),
        ];

        var charge = SpotCost.Integrate(history, "m7i.large", "us-east-1a", Utc(6, 8, 6, 30), Utc(6, 8, 7, 30));

        // One hour at 0.0290 (in effect since 03:00): 0.029
        Assert.Equal(0.029m, charge.Usd);
        var segment = Assert.Single(charge.Segments);
        Assert.Equal((Utc(6, 8, 6, 30), Utc(6, 8, 7, 30), 0.0290m), (segment.From, segment.To, segment.UsdPerHour));
    }

    [Fact]
    public void Integrate_PointExactlyAtTheStart_AppliesFromTheStart()
    {
        SpotPricePoint[] history = [Point(0.03m, Utc(6, 8, 6)), Point(0.05m, Utc(6, 8, 6, 30))];

        var charge = SpotCost.Integrate(history, "m7i.large", "us-east-1a", Utc(6, 8, 6, 30), Utc(6, 8, 6, 40));

        // 600 s at 0.05: 0.05 × 600 / 3600 = 0.008333... -> 0.008333 (six places)
        Assert.Equal(0.008333m, charge.Usd);
    }

    [Fact]
    public void Integrate_NoPointAtOrBeforeTheStart_UnknownNotGuessed()
    {
        SpotPricePoint[] history = [Point(0.0400m, Utc(6, 8, 6, 45)), Point(0.0100m, Utc(6, 1, 0), zone: "us-east-1b")];

        var charge = SpotCost.Integrate(history, "m7i.large", "us-east-1a", Utc(6, 8, 6, 30), Utc(6, 8, 9));

        Assert.False(charge.IsKnown);
        Assert.Null(charge.Usd);
        Assert.Empty(charge.Segments);
        Assert.Equal(
            "spot price for m7i.large in us-east-1a at 2026-06-08 06:30:00Z unknown: the history has no price at or before the start "
            + "(ask DescribeSpotPriceHistory from the start: it adds the price then in effect, up to 90 days back)",
            charge.Missing);
    }

    [Fact]
    public void Integrate_TwoPricesAtOneInstant_Unknown()
    {
        SpotPricePoint[] history = [Point(0.0400m, Utc(6, 8, 6)), Point(0.0410m, Utc(6, 8, 6))];

        var charge = SpotCost.Integrate(history, "m7i.large", "us-east-1a", Utc(6, 8, 6, 30), Utc(6, 8, 9));

        Assert.Null(charge.Usd);
        Assert.EndsWith("unknown: the history gives 0.0400 and 0.0410 USD per hour at 2026-06-08 06:00:00Z", charge.Missing, StringComparison.Ordinal);
    }

    [Fact]
    public void Integrate_FractionsOfASecond_Dropped()
    {
        SpotPricePoint[] history = [Point(3.6m, Utc(6, 8, 6))];

        var charge = SpotCost.Integrate(
            history, "m7i.large", "us-east-1a", Utc(6, 8, 6, 30).AddMilliseconds(700), Utc(6, 8, 6, 30, 10).AddMilliseconds(200));

        // 06:30:00 to 06:30:10: 10 s at 3.6 per hour = 0.001 per second: 0.01
        Assert.Equal(10, charge.Seconds);
        Assert.Equal(0.01m, charge.Usd);
    }

    [Fact]
    public void Integrate_ZeroSeconds_NothingCharged()
    {
        var charge = SpotCost.Integrate([Point(0.04m, Utc(6, 8, 6))], "m7i.large", "us-east-1a", Utc(6, 8, 7), Utc(6, 8, 7));

        Assert.Equal(0m, charge.Usd);
        Assert.Empty(charge.Segments);
    }
}
