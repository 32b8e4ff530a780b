namespace SpotDevBox.Core.Savings;

/// <summary>A stretch of a spot session at one price: from (inclusive) to (exclusive), in UTC.</summary>
public sealed record PriceSegment(DateTimeOffset From, DateTimeOffset To, decimal UsdPerHour);

/// <summary>
/// One session's cost, computed and stored when the session ends (spot price history reaches back only
/// 90 days). Money in USD; a null amount is unknown and <see cref="Unknowns"/> says why and what fixes it.
/// </summary>
/// <param name="Lifecycle">"spot" or "on-demand".</param>
/// <param name="EndedBy">As the controller recorded it: interruption, idle, schedule, manual, api-stop, ...</param>
/// <param name="InterruptedByEc2">EC2 reclaimed it (a spot interruption): no charge if that came within its first hour.</param>
/// <param name="BilledSeconds">Seconds billed: at least 60; 0 when the first-hour interruption rule waived the charge.</param>
/// <param name="InstanceCost">What the instance cost: the spot charge (the price step function over its seconds) or the on-demand charge.</param>
/// <param name="OnDemandCost">The same seconds at the on-demand price: the spot discount's baseline.</param>
/// <param name="EbsCost">The root volume while it existed (the session's seconds).</param>
/// <param name="S3Cost">The box's repository's S3 storage over the session's seconds.</param>
/// <param name="Paid">Instance + EBS + S3; null when any of them is unknown.</param>
/// <param name="SpotSegments">The prices in effect over the session (spot only), for hour-by-hour reconciliation with the data feed.</param>
public sealed record LedgerEntry(
    string Box,
    string Owner,
    string InstanceId,
    string Region,
    string InstanceType,
    string AvailabilityZone,
    string Lifecycle,
    DateTimeOffset Start,
    DateTimeOffset End,
    string EndedBy,
    bool InterruptedByEc2,
    long Seconds,
    long BilledSeconds,
    decimal? InstanceCost,
    decimal? OnDemandCost,
    decimal? EbsCost,
    decimal? S3Cost,
    decimal? Paid,
    int VolumeGiB,
    decimal? OnDemandPerHour,
    IReadOnlyList<PriceSegment> SpotSegments,
    IReadOnlyList<string> Unknowns,
    DateTimeOffset ComputedAt);

/// <summary>The ledger: one entry per ended session, keyed by instance id. SQLite by default, with the controller's state.</summary>
public interface ILedgerStore
{
    /// <summary>Adds the entry, or replaces the one of the same instance (a recomputation).</summary>
    Task RecordAsync(LedgerEntry entry, CancellationToken cancellationToken);

    Task<LedgerEntry?> GetAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>Entries whose session overlaps [from, to), optionally of one box and/or owner, oldest start first.</summary>
    Task<IReadOnlyList<LedgerEntry>> QueryAsync(DateTimeOffset from, DateTimeOffset to, string? box, string? owner, CancellationToken cancellationToken);
}
