using SpotDevBox.Core.Compute;

namespace SpotDevBox.Core.Savings;

/// <summary>Where the spot price of an estimate came from.</summary>
public enum SpotRateMethod
{
    /// <summary>--spot-discount P: on-demand x (1 - P/100).</summary>
    Given,

    /// <summary>--live: EC2's current spot price in the region's cheapest availability zone (the median is shown too).</summary>
    LiveCheapestZone,

    /// <summary>The Spot Instance Advisor's average saving for the region and type: an estimate.</summary>
    SpotAdvisor,
}

/// <summary>A spot price per hour for an estimate, and what it rests on.</summary>
/// <param name="DiscountPercent">Saving over the on-demand price, in percent (below 0 when spot costs more).</param>
public sealed record SpotRate(SpotRateMethod Method, decimal UsdPerHour, decimal DiscountPercent, string Source)
{
    /// <summary>The advisor's band of interruption frequency (<see cref="SpotRateMethod.SpotAdvisor"/>).</summary>
    public string? InterruptionBand { get; init; }

    /// <summary>The advisor data's date (<see cref="SpotRateMethod.SpotAdvisor"/>).</summary>
    public DateOnly? AsOf { get; init; }

    /// <summary>The cheapest zone (<see cref="SpotRateMethod.LiveCheapestZone"/>).</summary>
    public string? AvailabilityZone { get; init; }

    /// <summary>The median of every zone's current price (<see cref="SpotRateMethod.LiveCheapestZone"/>).</summary>
    public decimal? MedianUsdPerHour { get; init; }

    /// <summary>Every zone's current price, cheapest first (<see cref="SpotRateMethod.LiveCheapestZone"/>).</summary>
    public IReadOnlyList<SpotPricePoint> Zones { get; init; } = [];

    public static SpotRate FromDiscount(decimal onDemandUsdPerHour, decimal discountPercent) =>
        new(SpotRateMethod.Given, onDemandUsdPerHour * (100m - discountPercent) / 100m, discountPercent, "--spot-discount");

    public static SpotRate FromAdvice(decimal onDemandUsdPerHour, SpotAdvice advice)
    {
        ArgumentNullException.ThrowIfNull(advice);
        return new(SpotRateMethod.SpotAdvisor, onDemandUsdPerHour * (100m - advice.SavingsPercent) / 100m, advice.SavingsPercent, advice.Source)
        {
            InterruptionBand = advice.InterruptionBand,
            AsOf = advice.AsOf,
        };
    }

    /// <summary>The cheapest zone's latest price (a launch goes to the cheapest allowed placement), with the median for comparison.</summary>
    /// <param name="latest">The latest price per zone, as <see cref="SpotPriceHistory.Latest"/> gives them; at least one.</param>
    public static SpotRate FromLive(decimal onDemandUsdPerHour, IReadOnlyList<SpotPricePoint> latest, string region)
    {
        ArgumentNullException.ThrowIfNull(latest);
        if (latest.Count == 0)
        {
            throw new ArgumentException("no spot price to estimate from", nameof(latest));
        }

        var sorted = latest.OrderBy(p => p.UsdPerHour).ThenBy(p => p.AvailabilityZone, StringComparer.Ordinal).ToList();
        var cheapest = sorted[0];
        var middle = sorted.Count / 2;
        var median = sorted.Count % 2 == 1 ? sorted[middle].UsdPerHour : (sorted[middle - 1].UsdPerHour + sorted[middle].UsdPerHour) / 2m;
        var discount = onDemandUsdPerHour == 0 ? 0m : (1m - (cheapest.UsdPerHour / onDemandUsdPerHour)) * 100m;
        return new(SpotRateMethod.LiveCheapestZone, cheapest.UsdPerHour, discount, $"EC2 DescribeSpotPriceHistory in {region}, latest price per zone ({sorted.Count} zones)")
        {
            AvailabilityZone = cheapest.AvailabilityZone,
            MedianUsdPerHour = median,
            Zones = sorted,
        };
    }
}

/// <summary>One line of the estimate: hours a month and what they cost.</summary>
/// <param name="Id">One of <see cref="MonthlyEstimate.OnDemandAlwaysOn"/>, <see cref="MonthlyEstimate.OnDemandScheduled"/>, <see cref="MonthlyEstimate.SpotScheduled"/>.</param>
/// <param name="InstanceUsd">Null when the price is unknown (spot without an advisor entry, a discount or --live).</param>
public sealed record EstimateRow(string Id, decimal HoursPerMonth, decimal? UsdPerHour, decimal? InstanceUsd, decimal VolumeUsd, decimal? TotalUsd);

/// <summary>
/// The three lines of <c>spotdevbox estimate</c>, in a month of <see cref="ScheduleHours.MonthHours"/> hours:
/// <list type="number">
/// <item>on-demand 24/7: a box that is never stopped, and its root volume all month;</item>
/// <item>on-demand on the schedule: spotdevbox on on-demand capacity, up for the schedule's hours less idle hours;
/// each session is a fresh instance whose root volume is deleted with it, so the volume is billed for those hours only;</item>
/// <item>spot on the schedule: the same hours at the spot price.</item>
/// </list>
/// Amounts are exact decimals; rounding to cents is the printer's.
/// </summary>
public static class MonthlyEstimate
{
    public const string OnDemandAlwaysOn = "on-demand-24x7";
    public const string OnDemandScheduled = "on-demand-scheduled";
    public const string SpotScheduled = "spot-scheduled";

    /// <param name="ebsUsdPerGbMonth">The volume type's price per GB-month (EBS bills provisioned GiB as GB); may be 0 with no volume.</param>
    public static IReadOnlyList<EstimateRow> Rows(decimal onDemandUsdPerHour, SpotRate? spot, int volumeGiB, decimal ebsUsdPerGbMonth, ScheduledHours hours)
    {
        ArgumentNullException.ThrowIfNull(hours);
        var volumeMonth = volumeGiB * ebsUsdPerGbMonth;
        var alwaysOn = onDemandUsdPerHour * ScheduleHours.MonthHours;
        var volumeScheduled = hours.ForRunHours(volumeMonth);
        var onDemandScheduled = hours.ForRunHours(alwaysOn);
        decimal? spotScheduled = spot is null ? null : hours.ForRunHours(spot.UsdPerHour * ScheduleHours.MonthHours);
        return
        [
            new(OnDemandAlwaysOn, ScheduleHours.MonthHours, onDemandUsdPerHour, alwaysOn, volumeMonth, alwaysOn + volumeMonth),
            new(OnDemandScheduled, hours.HoursPerMonth, onDemandUsdPerHour, onDemandScheduled, volumeScheduled, onDemandScheduled + volumeScheduled),
            new(SpotScheduled, hours.HoursPerMonth, spot?.UsdPerHour, spotScheduled, volumeScheduled, spotScheduled + volumeScheduled),
        ];
    }
}
