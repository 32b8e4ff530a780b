using SpotDevBox.Core.Savings;
using static SpotDevBox.Core.Tests.Savings.SavingsData;

namespace SpotDevBox.Core.Tests.Savings;

/// <summary>Prices in <see cref="SavingsData"/>: on-demand 0.1008/h, EBS 2.88 and S3 0.207 per month.</summary>
[Trait("Category", "Calendar")]
public sealed class CostBucketsTests
{
    private static readonly TimeZoneInfo Berlin = CostBuckets.FindZone("Europe/Berlin");

    [Fact]
    public void ByDay_SessionAcrossMidnight_SplitIntoTwoUtcDays()
    {
        // 22:00 to 02:00 UTC; spot 0.036 until 01:00 on the 9th, then 0.048.
        var session = SessionCostCalculator.Compute(
            AliceSpot(Utc(6, 8, 22), Utc(6, 9, 2)) with { SpotHistory = [Point(0.036m, Utc(6, 8, 0)), Point(0.048m, Utc(6, 9, 1))] });

        var days = CostBuckets.ByDay([session], Utc(6, 8, 0), Utc(6, 10, 0));

        Assert.Equal(["2026-06-08", "2026-06-09"], days.Select(d => d.Key));
        var (monday, tuesday) = (days[0].Totals, days[1].Totals);
        Assert.Equal((7200L, 7200L), (monday.Seconds, tuesday.Seconds));
        // 8th: 2 h × 0.036 = 0.072; 9th: 1 h × 0.036 + 1 h × 0.048 = 0.084; the session: 0.156
        Assert.Equal(0.072m, monday.Instance.Usd);
        Assert.Equal(0.084m, tuesday.Instance.Usd);
        Assert.Equal(0.156m, session.Instance.Usd);
        // on-demand 2 h × 0.1008 = 0.2016 each day
        Assert.Equal(0.2016m, monday.OnDemand.Usd);
        Assert.Equal(0.2016m, tuesday.OnDemand.Usd);
        // + EBS 2 × 0.004 = 0.008 + S3 2 × 0.0002875 = 0.000575: 0.080575 and 0.092575
        Assert.Equal(0.080575m, monday.Paid.Usd);
        Assert.Equal(0.092575m, tuesday.Paid.Usd);
        Assert.Equal((1, 1), (monday.Sessions, tuesday.Sessions));
    }

    [Fact]
    public void ByDay_BerlinSpringForward_23HourDaySameMoneyAsUtc()
    {
        // Berlin 2026-03-29 02:00 CET -> 03:00 CEST. The session runs Sat 23:00 CET to Sun 05:00 CEST (22:00 to 03:00 UTC).
        var session = SessionCostCalculator.Compute(AliceSpot(Utc(3, 28, 22), Utc(3, 29, 3)) with { SpotHistory = [Point(0.04m, Utc(3, 1, 0))] });
        var (from, to) = (Utc(3, 27, 23), Utc(3, 29, 22));   // Berlin Sat 00:00 CET to Mon 00:00 CEST

        var local = CostBuckets.ByDay([session], from, to, Berlin);
        var utc = CostBuckets.ByDay([session], from, to);

        Assert.Equal(["2026-03-28", "2026-03-29"], local.Select(d => d.Key));
        Assert.Equal((Utc(3, 27, 23), Utc(3, 28, 23), TimeSpan.FromHours(24)), (local[0].From, local[0].To, local[0].Length));
        Assert.Equal((Utc(3, 28, 23), Utc(3, 29, 22), TimeSpan.FromHours(23)), (local[1].From, local[1].To, local[1].Length));
        // Berlin Saturday holds 22:00-23:00 UTC (1 h), Sunday 23:00-03:00 UTC (4 h): 0.04 and 0.16 spot; 0.1008 and 0.4032 on-demand
        Assert.Equal((3600L, 14400L), (local[0].Totals.Seconds, local[1].Totals.Seconds));
        Assert.Equal((0.04m, 0.16m), (local[0].Totals.Instance.Usd, local[1].Totals.Instance.Usd));
        Assert.Equal((0.1008m, 0.4032m), (local[0].Totals.OnDemand.Usd, local[1].Totals.OnDemand.Usd));
        // UTC days split it 2 h + 3 h; the money adds up the same: 0.2 spot, 0.504 on-demand
        Assert.Equal((0.08m, 0.12m), (utc[1].Totals.Instance.Usd, utc[2].Totals.Instance.Usd));
        Assert.Equal(0.2m, local.Sum(d => d.Totals.Instance.Known));
        Assert.Equal(0.2m, utc.Sum(d => d.Totals.Instance.Known));
        Assert.Equal(0.504m, local.Sum(d => d.Totals.OnDemand.Known));
        Assert.Equal(0.504m, utc.Sum(d => d.Totals.OnDemand.Known));
    }

    [Fact]
    public void ByDay_BerlinFallBack_25HourDay()
    {
        // Berlin 2026-10-25 03:00 CEST -> 02:00 CET: the day runs from 10-24 22:00 UTC to 10-25 23:00 UTC.
        var days = CostBuckets.ByDay([], Utc(10, 24, 22), Utc(10, 26, 23), Berlin);

        Assert.Equal(["2026-10-25", "2026-10-26"], days.Select(d => d.Key));
        Assert.Equal(TimeSpan.FromHours(25), days[0].Length);
        Assert.Equal(TimeSpan.FromHours(24), days[1].Length);
        Assert.Equal(CostTotals.Empty, days[0].Totals);
    }

    [Fact]
    public void ByWeekAndMonth_IsoWeeksAndCalendarMonths_ClippedToThePeriod()
    {
        var session = SessionCostCalculator.Compute(AliceSpot(Utc(6, 30, 22), Utc(7, 1, 2)));

        var weeks = CostBuckets.ByWeek([session], Utc(6, 24, 0), Utc(7, 6, 0));
        var months = CostBuckets.ByMonth([session], Utc(6, 24, 0), Utc(7, 6, 0));

        // Mon 2026-06-22 starts ISO week 26; the period starts on the Wednesday after it.
        Assert.Equal(["2026-W26", "2026-W27"], weeks.Select(w => w.Key));
        Assert.Equal((Utc(6, 24, 0), Utc(6, 29, 0)), (weeks[0].From, weeks[0].To));
        Assert.Equal(0.16m, weeks[1].Totals.Instance.Usd);   // 4 h × 0.04
        Assert.Equal(["2026-06", "2026-07"], months.Select(m => m.Key));
        // 2 h in each month: 0.08 spot; EBS 2.88 × 2/720 = 0.008 and 2.88 × 2/744 = 0.0077419... -> 0.007742
        Assert.Equal((0.08m, 0.08m), (months[0].Totals.Instance.Usd, months[1].Totals.Instance.Usd));
        Assert.Equal((0.008m, 0.007742m), (months[0].Totals.Ebs.Usd, months[1].Totals.Ebs.Usd));
    }

    [Fact]
    public void ByDay_MissingPrice_BucketIncompleteAndNamed()
    {
        var session = SessionCostCalculator.Compute(AliceSpot(Utc(6, 8, 10), Utc(6, 8, 11)) with { SpotHistory = [] });
        var other = SessionCostCalculator.Compute(AliceSpot(Utc(6, 9, 10), Utc(6, 9, 11)));

        var days = CostBuckets.ByDay([session, other], Utc(6, 8, 0), Utc(6, 10, 0));

        Assert.Null(days[0].Totals.Paid.Usd);
        Assert.Single(days[0].Totals.Paid.Unknowns);
        // The day without the unknown price is complete: 0.04 + 0.004 + 0.000288
        Assert.Equal(0.044288m, days[1].Totals.Paid.Usd);
    }

    [Fact]
    public void FindZone_Unknown_ArgumentException()
    {
        Assert.Throws<ArgumentException>(() => CostBuckets.FindZone("Mars/Olympus_Mons"));
    }
}
