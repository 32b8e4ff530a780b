using SpotDevBox.Core.Compute;

namespace SpotDevBox.Core.Savings;

/// <summary>A stretch of a spot session at one price: from (inclusive) to (exclusive), in UTC.</summary>
public sealed record PriceSegment(DateTimeOffset From, DateTimeOffset To, decimal UsdPerHour);

/// <summary>
/// One session's cost, computed and stored when the session ends (spot price history reaches back only
/// 90 days): the results, and the prices they came from, so that a report can split the session into its
/// days again (<see cref="ToCost"/>) exactly as it was computed. Money in USD; a null amount is unknown and
/// <see cref="Unknowns"/> says why and what fixes it.
/// </summary>
/// <param name="Lifecycle">"spot" or "on-demand".</param>
/// <param name="EndedBy">As the controller recorded it: interruption, idle, schedule, manual, api-stop, ...</param>
/// <param name="InterruptedByEc2">EC2 reclaimed it (a spot interruption): no charge if that came within its first hour.</param>
/// <param name="BilledSeconds">Seconds billed: at least 60.</param>
/// <param name="InstanceCost">What the instance cost: the spot charge (0 under the first-hour rule) or the on-demand charge.</param>
/// <param name="OnDemandCost">The same seconds at the on-demand price: the spot discount's baseline.</param>
/// <param name="EbsCost">The root volume while it existed (the session's billed seconds).</param>
/// <param name="S3Cost">The box's repository's S3 storage over the session's seconds.</param>
/// <param name="Paid">Instance + EBS + S3; null when any of them is unknown.</param>
/// <param name="SpotSegments">The spot prices in effect over the billed seconds (spot only): the step function, for reports and the data feed.</param>
/// <param name="OnDemandMissing">Why <paramref name="OnDemandPerHour"/> is null, and what fixes it.</param>
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
    DateTimeOffset ComputedAt)
{
    public string? SpotMissing { get; init; }
    public string? OnDemandMissing { get; init; }
    public decimal? EbsPerGbMonth { get; init; }
    public string? EbsMissing { get; init; }
    public decimal? S3PerGbMonth { get; init; }
    public string? S3Missing { get; init; }
    public long? RepositoryBytes { get; init; }

    /// <summary>Set when nobody knew when the session ended: <see cref="End"/> is the last instant it was known to run, this when it was found ended.</summary>
    public DateTimeOffset? LatestEnd { get; init; }

    /// <summary>The entry of a computed session: its results and the prices it was computed from.</summary>
    public static LedgerEntry From(SessionCostInputs inputs, SessionCost cost, DateTimeOffset computedAt)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(cost);
        return new LedgerEntry(
            cost.Box,
            cost.Owner ?? "",
            cost.InstanceId,
            cost.Region,
            cost.InstanceType,
            cost.AvailabilityZone,
            cost.Lifecycle == InstanceLifecycle.Spot ? "spot" : "on-demand",
            cost.Start,
            cost.End,
            cost.EndedBy ?? "unknown",
            cost.InterruptedByEc2,
            cost.Seconds,
            cost.BilledSeconds,
            cost.Instance.Usd,
            cost.OnDemand.Usd,
            cost.Ebs.Usd,
            cost.S3.Usd,
            cost.Paid.Usd,
            inputs.RootVolumeGib ?? 0,
            inputs.OnDemandPerHour.UsdPerUnit,
            cost.Spot is { } spot ? [.. spot.Segments.Select(s => new PriceSegment(s.From, s.To, s.UsdPerHour))] : [],
            cost.Unknowns,
            computedAt)
        {
            SpotMissing = cost.Spot?.Missing,
            OnDemandMissing = inputs.OnDemandPerHour.Missing,
            EbsPerGbMonth = inputs.EbsPerGbMonth.UsdPerUnit,
            EbsMissing = inputs.EbsPerGbMonth.Missing,
            S3PerGbMonth = inputs.S3PerGbMonth.UsdPerUnit,
            S3Missing = inputs.S3PerGbMonth.Missing,
            RepositoryBytes = inputs.RepositoryBytes,
            LatestEnd = inputs.LatestEnd,
        };
    }

    /// <summary>The session's cost again, from the prices stored with it: what reports split into days, boxes and owners.</summary>
    public SessionCost ToCost()
    {
        var lifecycle = Lifecycle == "spot" ? InstanceLifecycle.Spot : InstanceLifecycle.OnDemand;
        IReadOnlyList<SpotPricePoint> history = [.. SpotSegments.Select(s => new SpotPricePoint(InstanceType, AvailabilityZone, SpotPriceQuery.LinuxUnix, s.UsdPerHour, s.From))];
        return SessionCostCalculator.Compute(new SessionCostInputs(
            Box,
            Owner,
            InstanceId,
            Region,
            InstanceType,
            AvailabilityZone,
            lifecycle,
            Start,
            End,
            EndedBy,
            InterruptedByEc2,
            history,
            Quote(OnDemandPerHour, OnDemandMissing, $"the on-demand price of {InstanceType} in {Region}"),
            Quote(EbsPerGbMonth, EbsMissing, $"the EBS price in {Region}"),
            VolumeGiB,
            Quote(S3PerGbMonth, S3Missing, $"the S3 price in {Region}"),
            RepositoryBytes)
        {
            LatestEnd = LatestEnd,
        });
    }

    private static PriceQuote Quote(decimal? value, string? missing, string what) =>
        value is { } v ? new PriceQuote(v, "ledger") : PriceQuote.Unknown(missing ?? $"{what} was unknown when the session was recorded");
}

/// <summary>The ledger: one entry per ended session, keyed by instance id. SQLite by default, with the controller's state.</summary>
public interface ILedgerStore
{
    /// <summary>Adds the entry, or replaces the one of the same instance (a recomputation).</summary>
    Task RecordAsync(LedgerEntry entry, CancellationToken cancellationToken);

    Task<LedgerEntry?> GetAsync(string instanceId, CancellationToken cancellationToken);

    /// <summary>Entries whose session overlaps [from, to), optionally of one box and/or owner, oldest start first.</summary>
    Task<IReadOnlyList<LedgerEntry>> QueryAsync(DateTimeOffset from, DateTimeOffset to, string? box, string? owner, CancellationToken cancellationToken);
}
