namespace SpotDevBox.Core.Savings;

/// <summary>
/// Time as the ledger counts it: UTC, whole seconds (EC2 bills per second; a fraction of a second in a
/// recorded instant is dropped, so every interval is a whole number of seconds and intervals that meet add up).
/// </summary>
internal static class LedgerTime
{
    public const decimal SecondsPerHour = 3600m;

    /// <summary>The instant truncated to its second, in UTC.</summary>
    public static DateTimeOffset WholeSecond(DateTimeOffset at) =>
        new(at.UtcTicks - (at.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);

    public static long Seconds(DateTimeOffset from, DateTimeOffset to) =>
        to <= from ? 0 : (WholeSecond(to).UtcTicks - WholeSecond(from).UtcTicks) / TimeSpan.TicksPerSecond;

    /// <summary>Seconds of [aFrom, aTo) inside [bFrom, bTo).</summary>
    public static long Overlap(DateTimeOffset aFrom, DateTimeOffset aTo, DateTimeOffset bFrom, DateTimeOffset bTo) =>
        Seconds(aFrom > bFrom ? aFrom : bFrom, aTo < bTo ? aTo : bTo);

    /// <summary>
    /// A monthly amount (GB × USD per GB-month) prorated over [from, to), month by month: the seconds in each UTC
    /// calendar month over that month's seconds (28, 29, 30 or 31 days). AWS prorates EBS volumes and S3 storage
    /// this way: a 31 GB volume kept 24 hours of a 31-day month is one GB-month. Not rounded.
    /// </summary>
    public static decimal Prorate(decimal usdPerMonth, DateTimeOffset from, DateTimeOffset to)
    {
        from = WholeSecond(from);
        to = WholeSecond(to);
        var usd = 0m;
        var monthStart = new DateTimeOffset(from.Year, from.Month, 1, 0, 0, 0, TimeSpan.Zero);
        while (monthStart < to)
        {
            var next = monthStart.AddMonths(1);
            var inMonth = Overlap(from, to, monthStart, next);
            if (inMonth > 0)
            {
                // Multiply before dividing: the one division is the only inexact step.
                usd += usdPerMonth * inMonth / Seconds(monthStart, next);
            }

            monthStart = next;
        }

        return usd;
    }
}
