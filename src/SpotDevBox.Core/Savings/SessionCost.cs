using System.Globalization;
using SpotDevBox.Core.Compute;
using SpotDevBox.Core.Controller;

namespace SpotDevBox.Core.Savings;

/// <summary>
/// What a session's cost is computed from: the session as the controller recorded it and the prices that
/// applied. A price that is not known is passed as an unknown <see cref="PriceQuote"/> (or a null size): the
/// cost then names it instead of guessing.
/// </summary>
/// <param name="InterruptedByEc2">EC2 reclaimed the spot instance (not its owner, the schedule or idle shutdown).</param>
/// <param name="SpotHistory">For spot sessions: DescribeSpotPriceHistory from the start to the end (it includes the price in effect at the start).</param>
/// <param name="OnDemandPerHour">Linux on-demand price of the type in the region: what an on-demand session pays, and the comparison for a spot one.</param>
/// <param name="EbsPerGbMonth">The root volume's type (gp3) in the region.</param>
/// <param name="RootVolumeGib">The root volume as provisioned (EBS bills provisioned GiB as "GB").</param>
/// <param name="S3PerGbMonth">S3 Standard in the bucket's region.</param>
/// <param name="RepositoryBytes">The box's backup repository as stored in S3 during the session.</param>
public sealed record SessionCostInputs(
    string Box,
    string? Owner,
    string InstanceId,
    string Region,
    string InstanceType,
    string AvailabilityZone,
    InstanceLifecycle Lifecycle,
    DateTimeOffset Start,
    DateTimeOffset End,
    string? EndedBy,
    bool InterruptedByEc2,
    IReadOnlyList<SpotPricePoint> SpotHistory,
    PriceQuote OnDemandPerHour,
    PriceQuote EbsPerGbMonth,
    int? RootVolumeGib,
    PriceQuote S3PerGbMonth,
    long? RepositoryBytes)
{
    /// <summary>
    /// Set when nobody knows any more when the session ended (<see cref="SessionRow.LatestEnd"/>): <see cref="End"/>
    /// is then the last instant it was known to run and this when it was found ended; the time between is named
    /// as unknown (<see cref="MissingPrices.End"/>), never priced.
    /// </summary>
    public DateTimeOffset? LatestEnd { get; init; }

    /// <summary>
    /// The inputs for a recorded session. An open session is costed up to <paramref name="openUntil"/> (a
    /// report's "now"); it is an error to pass an open session without it. EC2 interrupted it when the
    /// controller recorded <see cref="SessionEndings.Interruption"/>.
    /// </summary>
    public static SessionCostInputs ForSession(
        SessionRow session,
        IReadOnlyList<SpotPricePoint> spotHistory,
        PriceQuote onDemandPerHour,
        PriceQuote ebsPerGbMonth,
        int? rootVolumeGib,
        PriceQuote s3PerGbMonth,
        long? repositoryBytes,
        DateTimeOffset? openUntil = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        var end = session.End ?? openUntil
            ?? throw new ArgumentException($"Session {session.InstanceId} is open: pass the instant to cost it up to.", nameof(openUntil));
        return new SessionCostInputs(
            session.Box,
            session.Owner,
            session.InstanceId,
            session.Region,
            session.InstanceType,
            session.AvailabilityZone,
            session.Lifecycle,
            session.Start,
            end,
            session.EndedBy,
            string.Equals(session.EndedBy, SessionEndings.Interruption, StringComparison.Ordinal),
            spotHistory,
            onDemandPerHour,
            ebsPerGbMonth,
            rootVolumeGib,
            s3PerGbMonth,
            repositoryBytes)
        {
            LatestEnd = session.End is null ? null : session.LatestEnd,
        };
    }
}

/// <summary>
/// The money of one session (see docs/savings.md, "Ledger"). Every amount is a <see cref="UsdAmount"/>:
/// known, or null with the missing price named. <see cref="Within"/> gives the part inside a report bucket,
/// computed from the same per-second rates, so a session split at midnight adds up to itself.
/// </summary>
public sealed class SessionCost
{
    private readonly decimal? _onDemandUsdPerHour;
    private readonly string? _onDemandMissing;
    private readonly decimal? _ebsUsdPerMonth;
    private readonly string? _ebsMissing;
    private readonly decimal? _s3UsdPerMonth;
    private readonly string? _s3Missing;
    private readonly string? _endUnknown;

    internal SessionCost(
        SessionCostInputs inputs,
        SpotCharge? spot,
        (decimal? UsdPerHour, string? Missing) onDemand,
        (decimal? UsdPerMonth, string? Missing) ebs,
        (decimal? UsdPerMonth, string? Missing) s3)
    {
        Box = inputs.Box;
        Owner = inputs.Owner;
        InstanceId = inputs.InstanceId;
        Region = inputs.Region;
        InstanceType = inputs.InstanceType;
        AvailabilityZone = inputs.AvailabilityZone;
        Lifecycle = inputs.Lifecycle;
        Start = LedgerTime.WholeSecond(inputs.Start);
        End = LedgerTime.WholeSecond(inputs.End);
        EndedBy = inputs.EndedBy;
        InterruptedByEc2 = inputs.InterruptedByEc2;
        Seconds = LedgerTime.Seconds(Start, End);
        BilledSeconds = Math.Max(Seconds, SessionCostCalculator.MinimumBilledSeconds);
        Spot = spot;
        // An unknown end is free only when even its latest possible end falls in the first hour.
        var secondsAtMost = inputs.LatestEnd is { } latestEnd && latestEnd > inputs.End ? LedgerTime.Seconds(Start, latestEnd) : Seconds;
        FreeFirstHourInterruption = Lifecycle == InstanceLifecycle.Spot && InterruptedByEc2 && secondsAtMost < SessionCostCalculator.FirstHourSeconds;
        (_onDemandUsdPerHour, _onDemandMissing) = onDemand;
        (_ebsUsdPerMonth, _ebsMissing) = ebs;
        (_s3UsdPerMonth, _s3Missing) = s3;
        _endUnknown = inputs.LatestEnd is { } latest && latest > inputs.End ? MissingPrices.End(InstanceId, End, latest) : null;

        var whole = Within(Start, BilledUntil);
        Instance = whole.Instance;
        OnDemand = whole.OnDemand;
        Ebs = whole.Ebs;
        S3 = whole.S3;
    }

    public string Box { get; }

    public string? Owner { get; }

    public string InstanceId { get; }

    public string Region { get; }

    public string InstanceType { get; }

    public string AvailabilityZone { get; }

    public InstanceLifecycle Lifecycle { get; }

    /// <summary>Whole UTC seconds.</summary>
    public DateTimeOffset Start { get; }

    public DateTimeOffset End { get; }

    public string? EndedBy { get; }

    public bool InterruptedByEc2 { get; }

    /// <summary>Seconds it ran.</summary>
    public long Seconds { get; }

    /// <summary>Seconds billed: <see cref="Seconds"/>, at least 60.</summary>
    public long BilledSeconds { get; }

    /// <summary><see cref="Start"/> + <see cref="BilledSeconds"/>: past <see cref="End"/> when the 60 s minimum applied.</summary>
    public DateTimeOffset BilledUntil => Start.AddSeconds(BilledSeconds);

    /// <summary>Spot sessions: the spot price over the billed seconds, stretch by stretch (before the first-hour rule); null for on-demand.</summary>
    public SpotCharge? Spot { get; }

    /// <summary>EC2 interrupted this spot instance within its first hour: the instance is free (<see cref="Instance"/> is 0).</summary>
    public bool FreeFirstHourInterruption { get; }

    /// <summary>What the instance cost: the spot charge (0 when <see cref="FreeFirstHourInterruption"/>), or on-demand for an on-demand session.</summary>
    public UsdAmount Instance { get; }

    /// <summary>The billed seconds at the on-demand price: what the same running time would have cost on-demand.</summary>
    public UsdAmount OnDemand { get; }

    /// <summary>The root volume over the billed seconds.</summary>
    public UsdAmount Ebs { get; }

    /// <summary>The repository's S3 storage over the seconds it ran.</summary>
    public UsdAmount S3 { get; }

    /// <summary>What was paid: <see cref="Instance"/> + <see cref="Ebs"/> + <see cref="S3"/>.</summary>
    public UsdAmount Paid => Instance.Plus(Ebs).Plus(S3);

    /// <summary>The same session on-demand: <see cref="OnDemand"/> + <see cref="Ebs"/> + <see cref="S3"/>.</summary>
    public UsdAmount SameHoursOnDemand => OnDemand.Plus(Ebs).Plus(S3);

    public decimal? OnDemandUsdPerHour => _onDemandUsdPerHour;

    /// <summary>Every price the figures lack, each with how to get it.</summary>
    public IReadOnlyList<string> Unknowns => Paid.Plus(SameHoursOnDemand).Unknowns;

    public bool IsComplete => Unknowns.Count == 0;

    /// <summary>
    /// The part of this session inside [<paramref name="from"/>, <paramref name="to"/>): the billed seconds there
    /// at their prices (a price change, the month's length and the 60 s minimum — placed right after the end — all
    /// land where they happened), each part rounded once.
    /// </summary>
    public CostSlice Within(DateTimeOffset from, DateTimeOffset to)
    {
        var billedFrom = Start > from ? Start : from;
        var billedTo = BilledUntil < to ? BilledUntil : to;
        var runTo = End < to ? End : to;
        var billed = LedgerTime.Seconds(billedFrom, billedTo);
        var run = LedgerTime.Seconds(billedFrom, runTo);

        var onDemand = billed == 0
            ? UsdAmount.Zero
            : _onDemandUsdPerHour is { } perHour ? UsdAmount.Of(perHour * billed / LedgerTime.SecondsPerHour) : UsdAmount.Unknown(_onDemandMissing!);
        var instance = Lifecycle switch
        {
            _ when billed == 0 || FreeFirstHourInterruption => UsdAmount.Zero,
            InstanceLifecycle.Spot => Spot!.Between(billedFrom, billedTo),
            _ => onDemand,
        };
        var ebs = billed == 0
            ? UsdAmount.Zero
            : _ebsUsdPerMonth is { } ebsMonthly ? UsdAmount.Of(LedgerTime.Prorate(ebsMonthly, billedFrom, billedTo)) : UsdAmount.Unknown(_ebsMissing!);
        var s3 = run == 0
            ? UsdAmount.Zero
            : _s3UsdPerMonth is { } s3Monthly ? UsdAmount.Of(LedgerTime.Prorate(s3Monthly, billedFrom, runTo)) : UsdAmount.Unknown(_s3Missing!);
        if (_endUnknown is not null && from <= End && End <= to)
        {
            // The seconds after the last known instant are not priced: the slice holding the known end says so
            // (the instance stays known when the first-hour rule makes it free however long it ran).
            var rest = UsdAmount.Unknown(_endUnknown);
            instance = FreeFirstHourInterruption ? instance : instance.Plus(rest);
            onDemand = onDemand.Plus(rest);
            ebs = ebs.Plus(rest);
        }

        return new CostSlice(Box, Owner, InstanceId, from, to, run, billed, instance, onDemand, ebs, s3);
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Box} {InstanceId} {Start:O}..{End:O}: paid {Paid}, on-demand {SameHoursOnDemand}");
}

/// <summary>The part of one session inside a report bucket [<paramref name="From"/>, <paramref name="To"/>).</summary>
/// <param name="Seconds">Seconds it ran inside the bucket.</param>
/// <param name="BilledSeconds">Seconds billed inside the bucket (the 60 s minimum's extra seconds follow the end).</param>
public sealed record CostSlice(
    string Box,
    string? Owner,
    string InstanceId,
    DateTimeOffset From,
    DateTimeOffset To,
    long Seconds,
    long BilledSeconds,
    UsdAmount Instance,
    UsdAmount OnDemand,
    UsdAmount Ebs,
    UsdAmount S3)
{
    public UsdAmount Paid => Instance.Plus(Ebs).Plus(S3);

    public UsdAmount SameHoursOnDemand => OnDemand.Plus(Ebs).Plus(S3);
}
