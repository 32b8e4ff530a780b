using System.Globalization;

namespace SpotDevBox.Core.Savings;

/// <summary>The sessions' parts inside one bucket, added up.</summary>
/// <param name="Sessions">Sessions with billed seconds in the bucket.</param>
public sealed record CostTotals(
    int Sessions,
    long Seconds,
    long BilledSeconds,
    UsdAmount Instance,
    UsdAmount OnDemand,
    UsdAmount Ebs,
    UsdAmount S3)
{
    public static CostTotals Empty { get; } = new(0, 0, 0, UsdAmount.Zero, UsdAmount.Zero, UsdAmount.Zero, UsdAmount.Zero);

    /// <summary>Instance + EBS + S3 while the sessions ran.</summary>
    public UsdAmount Paid => Instance.Plus(Ebs).Plus(S3);

    /// <summary>The same billed seconds on-demand, with the same EBS and S3.</summary>
    public UsdAmount SameHoursOnDemand => OnDemand.Plus(Ebs).Plus(S3);

    public static CostTotals Of(IEnumerable<CostSlice> slices)
    {
        ArgumentNullException.ThrowIfNull(slices);
        return slices.Aggregate(Empty, (totals, slice) => slice.BilledSeconds == 0 ? totals : new CostTotals(
            totals.Sessions + 1,
            totals.Seconds + slice.Seconds,
            totals.BilledSeconds + slice.BilledSeconds,
            totals.Instance.Plus(slice.Instance),
            totals.OnDemand.Plus(slice.OnDemand),
            totals.Ebs.Plus(slice.Ebs),
            totals.S3.Plus(slice.S3)));
    }
}

/// <summary>One report line: a day, week or month (clipped to the report's period), a box or an owner.</summary>
/// <param name="Key">"2026-06-08", "2026-W24", "2026-06", the box, or the owner ("(no owner)" when none was recorded).</param>
public sealed record CostBucket(string Key, DateTimeOffset From, DateTimeOffset To, CostTotals Totals)
{
    /// <summary>23 or 25 hours for a local day with a DST change.</summary>
    public TimeSpan Length => To - From;
}

public enum BucketPeriod
{
    Day,
    Week,
    Month,
}

/// <summary>
/// Splits sessions' money into report buckets. Calendar buckets are local days, ISO weeks (Monday first) or
/// months in a zone (UTC unless one is given); their boundaries are instants, and each session's part in a
/// bucket is computed from its seconds there (money is always counted in UTC seconds), so a session across
/// midnight is split where midnight falls and a DST day simply has 23 or 25 hours.
/// </summary>
public static class CostBuckets
{
    public const string NoOwner = "(no owner)";

    public static IReadOnlyList<CostBucket> ByDay(IEnumerable<SessionCost> sessions, DateTimeOffset from, DateTimeOffset to, TimeZoneInfo? zone = null) =>
        ByPeriod(sessions, from, to, BucketPeriod.Day, zone);

    public static IReadOnlyList<CostBucket> ByWeek(IEnumerable<SessionCost> sessions, DateTimeOffset from, DateTimeOffset to, TimeZoneInfo? zone = null) =>
        ByPeriod(sessions, from, to, BucketPeriod.Week, zone);

    public static IReadOnlyList<CostBucket> ByMonth(IEnumerable<SessionCost> sessions, DateTimeOffset from, DateTimeOffset to, TimeZoneInfo? zone = null) =>
        ByPeriod(sessions, from, to, BucketPeriod.Month, zone);

    /// <summary>Every bucket of [from, to), empty ones included (a graph needs the gaps), the first and last clipped to the period.</summary>
    public static IReadOnlyList<CostBucket> ByPeriod(IEnumerable<SessionCost> sessions, DateTimeOffset from, DateTimeOffset to, BucketPeriod period, TimeZoneInfo? zone = null)
    {
        ArgumentNullException.ThrowIfNull(sessions);
        CheckPeriod(from, to);
        zone ??= TimeZoneInfo.Utc;
        var all = sessions.ToList();

        var localFrom = TimeZoneInfo.ConvertTime(from, zone).DateTime.Date;
        var date = period switch
        {
            BucketPeriod.Day => localFrom,
            BucketPeriod.Week => localFrom.AddDays(-(((int)localFrom.DayOfWeek + 6) % 7)),
            BucketPeriod.Month => new DateTime(localFrom.Year, localFrom.Month, 1, 0, 0, 0, DateTimeKind.Unspecified),
            _ => throw new ArgumentOutOfRangeException(nameof(period), period, null),
        };

        var buckets = new List<CostBucket>();
        var start = LocalStart(date, zone);
        while (start < to)
        {
            var nextDate = period switch
            {
                BucketPeriod.Day => date.AddDays(1),
                BucketPeriod.Week => date.AddDays(7),
                _ => date.AddMonths(1),
            };
            var next = LocalStart(nextDate, zone);
            var (bucketFrom, bucketTo) = (start > from ? start : from, next < to ? next : to);
            if (bucketFrom < bucketTo)
            {
                buckets.Add(new CostBucket(Key(date, period), bucketFrom, bucketTo, CostTotals.Of(all.Select(s => s.Within(bucketFrom, bucketTo)))));
            }

            (date, start) = (nextDate, next);
        }

        return buckets;
    }

    /// <summary>One bucket per box over [from, to), by box name.</summary>
    public static IReadOnlyList<CostBucket> ByBox(IEnumerable<SessionCost> sessions, DateTimeOffset from, DateTimeOffset to) =>
        ByKey(sessions, from, to, s => s.Box);

    /// <summary>One bucket per owner over [from, to), by owner.</summary>
    public static IReadOnlyList<CostBucket> ByOwner(IEnumerable<SessionCost> sessions, DateTimeOffset from, DateTimeOffset to) =>
        ByKey(sessions, from, to, s => string.IsNullOrWhiteSpace(s.Owner) ? NoOwner : s.Owner);

    /// <summary>An IANA zone ("Europe/Berlin"), or a Windows one, on every system.</summary>
    /// <exception cref="ArgumentException">Not a zone this system or TimeZoneConverter knows.</exception>
    public static TimeZoneInfo FindZone(string id) =>
        Schedules.BoxSchedule.TryFindZone(id, out var zone)
            ? zone!
            : throw new ArgumentException($"'{id}' is not a known time zone (an IANA id such as Europe/Berlin).", nameof(id));

    private static List<CostBucket> ByKey(IEnumerable<SessionCost> sessions, DateTimeOffset from, DateTimeOffset to, Func<SessionCost, string> key)
    {
        ArgumentNullException.ThrowIfNull(sessions);
        CheckPeriod(from, to);
        return
        [
            .. sessions
                .GroupBy(key, StringComparer.Ordinal)
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new CostBucket(g.Key, from, to, CostTotals.Of(g.Select(s => s.Within(from, to))))),
        ];
    }

    internal static void CheckPeriod(DateTimeOffset from, DateTimeOffset to)
    {
        if (to <= from)
        {
            throw new ArgumentException($"The period's end ({to:O}) is not after its start ({from:O}).", nameof(to));
        }
    }

    /// <summary>
    /// The instant a local date begins. A midnight the clock skips (a DST gap at 00:00) begins when the clock
    /// jumps past it; a midnight it shows twice begins at the second one (standard time), so the day before
    /// keeps its repeated hour.
    /// </summary>
    private static DateTimeOffset LocalStart(DateTime localDate, TimeZoneInfo zone)
    {
        var local = DateTime.SpecifyKind(localDate, DateTimeKind.Unspecified);
        while (zone.IsInvalidTime(local))
        {
            local = local.AddMinutes(1);
        }

        return new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(local, zone), TimeSpan.Zero);
    }

    private static string Key(DateTime localDate, BucketPeriod period) => period switch
    {
        BucketPeriod.Day => localDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        BucketPeriod.Week => string.Create(CultureInfo.InvariantCulture, $"{ISOWeek.GetYear(localDate)}-W{ISOWeek.GetWeekOfYear(localDate):00}"),
        _ => localDate.ToString("yyyy-MM", CultureInfo.InvariantCulture),
    };
}
