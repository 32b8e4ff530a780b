using SpotDevBox.Core.Compute;

namespace SpotDevBox.Core.Savings;

/// <summary>A session's cost from its inputs, by AWS's billing rules (docs/savings.md, "Ledger"). Pure: no clock, no I/O.</summary>
public static class SessionCostCalculator
{
    /// <summary>Linux instances and EBS volumes are billed per second with a 60-second minimum.</summary>
    public const long MinimumBilledSeconds = 60;

    /// <summary>A spot instance EC2 interrupts before it has run this long is not charged.</summary>
    public const long FirstHourSeconds = 3600;

    /// <summary>S3 (and AWS billing generally) counts a GB as 2^30 bytes.</summary>
    public const decimal BytesPerGb = 1_073_741_824m;

    public static SessionCost Compute(SessionCostInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentException.ThrowIfNullOrWhiteSpace(inputs.Box);
        ArgumentException.ThrowIfNullOrWhiteSpace(inputs.InstanceId);
        ArgumentException.ThrowIfNullOrWhiteSpace(inputs.Region);
        ArgumentException.ThrowIfNullOrWhiteSpace(inputs.InstanceType);
        ArgumentNullException.ThrowIfNull(inputs.SpotHistory);
        ArgumentNullException.ThrowIfNull(inputs.OnDemandPerHour);
        ArgumentNullException.ThrowIfNull(inputs.EbsPerGbMonth);
        ArgumentNullException.ThrowIfNull(inputs.S3PerGbMonth);
        if (inputs.End < inputs.Start)
        {
            throw new ArgumentException($"Session {inputs.InstanceId} ends ({inputs.End:O}) before it starts ({inputs.Start:O}).", nameof(inputs));
        }

        if (inputs.RootVolumeGib < 0 || inputs.RepositoryBytes < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(inputs), "RootVolumeGib and RepositoryBytes cannot be negative.");
        }

        var start = LedgerTime.WholeSecond(inputs.Start);
        var billed = Math.Max(LedgerTime.Seconds(start, inputs.End), MinimumBilledSeconds);

        // The 60 s minimum is charged as if the instance had run its first 60 s, at the prices of those seconds.
        var spot = inputs.Lifecycle == InstanceLifecycle.Spot
            ? SpotCost.Integrate(inputs.SpotHistory, inputs.InstanceType, inputs.AvailabilityZone, start, start.AddSeconds(billed))
            : null;

        var onDemand = Price(inputs.OnDemandPerHour, MissingPrices.OnDemand(inputs.InstanceType, inputs.Region));
        var ebsPrice = Price(inputs.EbsPerGbMonth, MissingPrices.Ebs(inputs.Region));
        (decimal? UsdPerMonth, string? Missing) ebs = inputs.RootVolumeGib is { } gib
            ? (ebsPrice.Usd * gib, ebsPrice.Missing)
            : (null, MissingPrices.RootVolume(inputs.InstanceId, inputs.Box));
        var s3Price = Price(inputs.S3PerGbMonth, MissingPrices.S3(inputs.Box));
        (decimal? UsdPerMonth, string? Missing) s3 = inputs.RepositoryBytes is { } bytes
            ? (s3Price.Usd * bytes / BytesPerGb, s3Price.Missing)
            : (null, MissingPrices.RepositoryBytes(inputs.Box));

        return new SessionCost(inputs, spot, onDemand, ebs, s3);
    }

    /// <summary>The quote's own account of what is missing, or <paramref name="fallback"/>.</summary>
    internal static string Missing(PriceQuote quote, string fallback) =>
        string.IsNullOrWhiteSpace(quote.Missing) ? fallback : quote.Missing;

    private static (decimal? Usd, string? Missing) Price(PriceQuote quote, string fallback)
    {
        if (quote.UsdPerUnit is { } usd)
        {
            return usd < 0
                ? throw new ArgumentOutOfRangeException(nameof(quote), usd, $"A price cannot be negative ({quote.Source}).")
                : (usd, null);
        }

        return (null, Missing(quote, fallback));
    }
}
