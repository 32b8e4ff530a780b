using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Savings;
using SpotDevBox.Core.Schedules;

namespace SpotDevBox.Core.Tests.Savings;

/// <summary>
/// Dollars for m7i.large in us-east-1 from the shipped tables (0.1008 USD/h; gp3 0.08 USD per GB-month; advisor 68 %),
/// worked by hand: a month is 730 h; Mon-Fri 09:00-18:00 is 180 of 672 h.
/// </summary>
public sealed class MonthlyEstimateTests
{
    private static readonly PriceBook Shipped = new([new PriceTableFolder(Path.Combine(AppContext.BaseDirectory, "config", "prices"), "config/prices")], new PriceOptions());

    private static ScheduledHours WorkingHours(decimal idle = 0m) =>
        ScheduleHours.Measure(BoxSchedule.Parse("UTC", "Mon-Fri 09:00-18:00"), new DateOnly(2026, 6, 1), idle);

    private static decimal Cents(decimal? usd) => Math.Round(usd!.Value, 2, MidpointRounding.AwayFromZero);

    [Fact]
    public void Rows_M7iLargeUsEast1WithAdvisor_HandComputedDollars()
    {
        var onDemand = Shipped.PerHour("us-east-1", "m7i.large").UsdPerUnit!.Value;
        var gp3 = Shipped.EbsPerGbMonth("us-east-1", "gp3").UsdPerUnit!.Value;
        var spot = SpotRate.FromAdvice(onDemand, Shipped.Find("us-east-1", "m7i.large")!);

        var rows = MonthlyEstimate.Rows(onDemand, spot, 30, gp3, WorkingHours());

        // 24/7: 0.1008 x 730 = 73.584; 30 GiB x 0.08 = 2.40 all month; 75.984.
        Assert.Equal((730m, 73.584m, 2.40m, 75.984m), (rows[0].HoursPerMonth, rows[0].InstanceUsd!.Value, rows[0].VolumeUsd, rows[0].TotalUsd!.Value));
        // On the schedule: 0.1008 x 180 x 730 / 672 = 19.71; the volume for those hours, 2.40 x 180 / 672 = 0.6428...
        Assert.Equal(19.71m, rows[1].InstanceUsd);
        Assert.Equal((0.64m, 20.35m), (Cents(rows[1].VolumeUsd), Cents(rows[1].TotalUsd)));
        // Spot: 68 % off, 0.1008 x 0.32 = 0.032256 USD/h; 19.71 x 0.32 = 6.3072; with the volume 6.9500571...
        Assert.Equal(0.032256m, rows[2].UsdPerHour);
        Assert.Equal(6.3072m, rows[2].InstanceUsd);
        Assert.Equal(6.95m, Cents(rows[2].TotalUsd));
    }

    [Fact]
    public void Rows_IdleHour_ScheduledRowsOnly()
    {
        var rows = MonthlyEstimate.Rows(0.1008m, SpotRate.FromDiscount(0.1008m, 60m), 30, 0.08m, WorkingHours(idle: 1m));

        // 20 days x 8 h = 160 h of 672: 0.1008 x 160 x 730 / 672 = 17.52; spot 40 % of it = 7.008; 24/7 unchanged.
        Assert.Equal((73.584m, 17.52m, 7.008m), (rows[0].InstanceUsd!.Value, rows[1].InstanceUsd!.Value, rows[2].InstanceUsd!.Value));
    }

    [Fact]
    public void Rows_NoSpotPrice_SpotRowUnknown()
    {
        var rows = MonthlyEstimate.Rows(0.1008m, null, 0, 0m, WorkingHours());

        Assert.Equal((null, null, 0m), (rows[2].InstanceUsd, rows[2].TotalUsd, rows[2].VolumeUsd));
        Assert.Equal(19.71m, rows[1].TotalUsd);
    }

    [Fact]
    public void FromLive_CheapestZoneAndMedian()
    {
        var at = new DateTimeOffset(2026, 7, 20, 0, 0, 0, TimeSpan.Zero);
        SpotPricePoint P(string zone, decimal usd) => new("m7i.large", zone, "Linux/UNIX", usd, at);

        var rate = SpotRate.FromLive(0.1008m, [P("us-east-1a", 0.0400m), P("us-east-1d", 0.0336m), P("us-east-1b", 0.0420m), P("us-east-1c", 0.0380m)], "us-east-1");

        // Cheapest 0.0336 (1d): 1 - 0.0336 / 0.1008 = 66.66...%; median of 0.0336, 0.0380, 0.0400, 0.0420 = (0.0380 + 0.0400) / 2 = 0.0390.
        Assert.Equal((SpotRateMethod.LiveCheapestZone, 0.0336m, "us-east-1d", 0.0390m), (rate.Method, rate.UsdPerHour, rate.AvailabilityZone, rate.MedianUsdPerHour));
        Assert.Equal(66.67m, Math.Round(rate.DiscountPercent, 2));
    }

    [Fact]
    public void FromDiscount_Percent()
    {
        Assert.Equal(0.04032m, SpotRate.FromDiscount(0.1008m, 60m).UsdPerHour);
    }
}
