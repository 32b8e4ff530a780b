using System.Globalization;
using SpotDevBox.Core.Compute;

namespace SpotDevBox.Core.Savings;

/// <summary>One stretch at one spot price: [<paramref name="From"/>, <paramref name="To"/>) in whole UTC seconds.</summary>
public sealed record SpotCostSegment(DateTimeOffset From, DateTimeOffset To, decimal UsdPerHour)
{
    public long Seconds => LedgerTime.Seconds(From, To);

    /// <summary>This stretch alone, rounded to <see cref="LedgerRounding.Decimals"/> places (the charge's total is rounded once, from the unrounded stretches).</summary>
    public decimal Usd => LedgerRounding.Round(UsdPerHour * Seconds / LedgerTime.SecondsPerHour);
}

/// <summary>
/// The spot charge for [<see cref="Start"/>, <see cref="End"/>): the stretches at each price, or — when the
/// price in effect at the start is not in the history — no stretches and <see cref="Missing"/> saying so.
/// </summary>
public sealed record SpotCharge(
    string InstanceType,
    string AvailabilityZone,
    DateTimeOffset Start,
    DateTimeOffset End,
    IReadOnlyList<SpotCostSegment> Segments,
    string? Missing = null)
{
    public bool IsKnown => Missing is null;

    public long Seconds => LedgerTime.Seconds(Start, End);

    /// <summary>Σ price × seconds / 3600 over the stretches, rounded once; null when the price is unknown.</summary>
    public decimal? Usd => IsKnown ? Between(Start, End).Usd : null;

    /// <summary>The part of the charge inside [from, to): what a report bucket gets.</summary>
    public UsdAmount Between(DateTimeOffset from, DateTimeOffset to)
    {
        if (Missing is not null)
        {
            return LedgerTime.Overlap(Start, End, from, to) > 0 ? UsdAmount.Unknown(Missing) : UsdAmount.Zero;
        }

        var usdHours = Segments.Sum(s => s.UsdPerHour * LedgerTime.Overlap(s.From, s.To, from, to));
        return UsdAmount.Of(usdHours / LedgerTime.SecondsPerHour);
    }
}

/// <summary>The spot price as a step function over time, integrated per second.</summary>
public static class SpotCost
{
    /// <summary>
    /// The spot charge for running <paramref name="instanceType"/> in <paramref name="availabilityZone"/> over
    /// [<paramref name="start"/>, <paramref name="end"/>). The price in effect at the start is the last point at or
    /// before the start (DescribeSpotPriceHistory returns it with the changes in range); each later point applies
    /// from its timestamp; a second costs USD per hour / 3600. Instants are truncated to whole seconds. No point at
    /// or before the start, or two different prices at one instant: the charge is unknown, never guessed.
    /// </summary>
    /// <param name="history">Points of any type, zone and product; only the matching ones are used, in any order.</param>
    /// <param name="productDescription">"Linux/UNIX", ...; null accepts any, unless the matching points carry several.</param>
    public static SpotCharge Integrate(
        IReadOnlyList<SpotPricePoint> history,
        string instanceType,
        string availabilityZone,
        DateTimeOffset start,
        DateTimeOffset end,
        string? productDescription = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceType);
        ArgumentException.ThrowIfNullOrWhiteSpace(availabilityZone);
        if (end < start)
        {
            throw new ArgumentException($"The end ({end:O}) is before the start ({start:O}).", nameof(end));
        }

        start = LedgerTime.WholeSecond(start);
        end = LedgerTime.WholeSecond(end);
        SpotCharge Unknown(string why) =>
            new(instanceType, availabilityZone, start, end, [], string.Create(
                CultureInfo.InvariantCulture,
                $"spot price for {instanceType} in {availabilityZone} at {start:yyyy-MM-dd HH:mm:ss}Z unknown: {why}"));

        var matching = history
            .Where(p => string.Equals(p.InstanceType, instanceType, StringComparison.Ordinal)
                && string.Equals(p.AvailabilityZone, availabilityZone, StringComparison.Ordinal)
                && (productDescription is null || string.Equals(p.ProductDescription, productDescription, StringComparison.Ordinal)))
            .ToList();
        var products = matching.Select(p => p.ProductDescription).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (products.Count > 1)
        {
            return Unknown($"the history mixes products ({string.Join(", ", products)}); ask for one");
        }

        var changes = new List<(DateTimeOffset At, decimal UsdPerHour)>();
        foreach (var at in matching.GroupBy(p => LedgerTime.WholeSecond(p.Timestamp)).OrderBy(g => g.Key))
        {
            var prices = at.Select(p => p.UsdPerHour).Distinct().ToList();
            if (prices.Count > 1)
            {
                return Unknown(string.Create(
                    CultureInfo.InvariantCulture,
                    $"the history gives {string.Join(" and ", prices.Order())} USD per hour at {at.Key:yyyy-MM-dd HH:mm:ss}Z"));
            }

            changes.Add((at.Key, prices[0]));
        }

        var first = changes.FindLastIndex(c => c.At <= start);
        if (first < 0)
        {
            return Unknown("the history has no price at or before the start (ask DescribeSpotPriceHistory from the start: it adds the price then in effect, up to 90 days back)");
        }

        var segments = new List<SpotCostSegment>();
        var (from, price) = (start, changes[first].UsdPerHour);
        foreach (var (at, usdPerHour) in changes.Skip(first + 1).TakeWhile(c => c.At < end))
        {
            if (usdPerHour != price)
            {
                segments.Add(new SpotCostSegment(from, at, price));
                (from, price) = (at, usdPerHour);
            }
        }

        if (from < end)
        {
            segments.Add(new SpotCostSegment(from, end, price));
        }

        return new SpotCharge(instanceType, availabilityZone, start, end, segments);
    }
}
