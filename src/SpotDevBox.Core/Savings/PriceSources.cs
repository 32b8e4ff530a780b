namespace SpotDevBox.Core.Savings;

/// <summary>
/// A price and where it came from, or why there is none. Never invented: when <see cref="UsdPerUnit"/> is
/// null, <see cref="Missing"/> says what is missing and the command or setting that fixes it.
/// </summary>
/// <param name="Source">"config/prices/ondemand-linux-us-east-1.csv (AWS Price List API, 2026-07-20)", "Prices:OnDemand override", ...</param>
public sealed record PriceQuote(decimal? UsdPerUnit, string Source, string? Missing = null)
{
    public bool IsKnown => UsdPerUnit is not null;

    public static PriceQuote Unknown(string missing) => new(null, "unknown", missing);
}

/// <summary>On-demand Linux (shared tenancy) prices per instance hour, by region and type: shipped tables, refreshed ones, and overrides.</summary>
public interface IOnDemandPrices
{
    PriceQuote PerHour(string region, string instanceType);
}

/// <summary>Storage list prices by region: EBS per GB-month by volume type, S3 Standard per GB-month.</summary>
public interface IStoragePrices
{
    PriceQuote EbsPerGbMonth(string region, string volumeType);

    PriceQuote S3StandardPerGbMonth(string region);

    /// <summary>
    /// Any item of <see cref="StorageItems"/> (EBS storage per volume type, gp3 IOPS and throughput above the
    /// baseline, EBS snapshots, S3 Standard storage and requests), in the unit <see cref="StorageItems.UnitOf"/> names.
    /// </summary>
    PriceQuote Item(string region, string item);
}

/// <summary>The Spot Instance Advisor's average discount and interruption band: an estimate for `estimate`, never a ledger price.</summary>
/// <param name="SavingsPercent">Average saving of spot over on-demand, up to 100; below 0 where spot cost more than on-demand.</param>
/// <param name="InterruptionBand">"&lt;5%", "5-10%", "10-15%", "15-20%", "&gt;20%".</param>
/// <param name="AsOf">The date of the advisor data.</param>
public sealed record SpotAdvice(string Region, string InstanceType, int SavingsPercent, string InterruptionBand, DateOnly AsOf, string Source);

public interface ISpotAdvisor
{
    /// <summary>Linux advice for the type in the region, or null when the advisor has none.</summary>
    SpotAdvice? Find(string region, string instanceType);
}
