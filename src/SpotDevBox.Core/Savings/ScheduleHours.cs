using SpotDevBox.Core.Schedules;

namespace SpotDevBox.Core.Savings;

/// <summary>How many hours a schedule keeps a box up, measured over a representative period and scaled to a month.</summary>
/// <param name="From">Local midnight starting the period (an instant; its offset is the zone's then).</param>
/// <param name="To">Local midnight <see cref="ScheduleHours.PeriodDays"/> days later.</param>
/// <param name="PeriodHours">Hours elapsed from <see cref="From"/> to <see cref="To"/>: 672, or 671 / 673 across a DST change.</param>
/// <param name="UpHours">Hours the schedule keeps the box up in the period.</param>
/// <param name="RunHours">Of those, the hours left after the idle hours of every scheduled day.</param>
/// <param name="ScheduledDays">Local dates in the period on which the box is up at all.</param>
public sealed record ScheduledHours(
    DateTimeOffset From,
    DateTimeOffset To,
    decimal PeriodHours,
    decimal UpHours,
    decimal RunHours,
    int ScheduledDays,
    decimal IdleHoursPerDay)
{
    /// <summary>The share of the period's real time the box runs, times a month of <see cref="ScheduleHours.MonthHours"/>.</summary>
    public decimal HoursPerMonth => RunHours * ScheduleHours.MonthHours / PeriodHours;

    /// <summary><paramref name="amountPerMonth"/> (a price per month of 730 h) for the hours run: amount x run / period, dividing last.</summary>
    public decimal ForRunHours(decimal amountPerMonth) => amountPerMonth * RunHours / PeriodHours;
}

/// <summary>
/// The schedule-hours method of <c>spotdevbox estimate</c> (docs/savings.md): a month is 730 hours (8760 / 12);
/// the schedule is played through the schedule evaluator over four whole weeks from a local Monday midnight
/// (every weekday four times; a DST change in them is handled by the evaluator, period by period), and the share
/// of that period's real hours the box is up is applied to 730 h.
/// </summary>
public static class ScheduleHours
{
    public const decimal MonthHours = 730m;

    public const int PeriodDays = 28;

    /// <summary>The first Monday after <paramref name="now"/>'s date in <paramref name="zone"/> (a Monday gives the next one).</summary>
    public static DateOnly NextMonday(TimeZoneInfo zone, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, zone).DateTime);
        var ahead = ((int)DayOfWeek.Monday - (int)today.DayOfWeek + 7) % 7;
        return today.AddDays(ahead == 0 ? 7 : ahead);
    }

    /// <summary>
    /// Up hours of <paramref name="schedule"/> in the <see cref="PeriodDays"/> days from <paramref name="firstDay"/>,
    /// each local date's hours reduced by <paramref name="idleHoursPerDay"/> (not below zero) on dates with any.
    /// </summary>
    public static ScheduledHours Measure(BoxSchedule schedule, DateOnly firstDay, decimal idleHoursPerDay)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentOutOfRangeException.ThrowIfNegative(idleHoursPerDay);
        var timeline = new ScheduleTimeline(schedule);
        var midnights = Enumerable.Range(0, PeriodDays + 1)
            .Select(i => timeline.ToInstant(firstDay.AddDays(i).ToDateTime(TimeOnly.MinValue)))
            .ToList();
        var from = midnights[0];
        var to = midnights[^1];

        // The up intervals in [from, to): the state at `from`, then every start and stop.
        var intervals = new List<(DateTimeOffset Start, DateTimeOffset End)>();
        DateTimeOffset? start = ScheduleEvaluator.Evaluate(schedule, [], from).Up ? from : null;
        foreach (var t in ScheduleEvaluator.Transitions(schedule, [], from, to))
        {
            if (t.Up)
            {
                start ??= t.At;
            }
            else if (start is { } s)
            {
                intervals.Add((s, t.At));
                start = null;
            }
        }

        if (start is { } open && open < to)
        {
            intervals.Add((open, to));
        }

        // Hours per local date: an interval that runs past midnight counts on both dates.
        var up = 0m;
        var run = 0m;
        var days = 0;
        for (var d = 0; d < PeriodDays; d++)
        {
            var dayStart = midnights[d];
            var dayEnd = midnights[d + 1];
            var ticks = intervals.Sum(i => Math.Max(0L, (Min(i.End, dayEnd) - Max(i.Start, dayStart)).Ticks));
            if (ticks <= 0)
            {
                continue;
            }

            var hours = (decimal)ticks / TimeSpan.TicksPerHour;
            days++;
            up += hours;
            run += Math.Max(0m, hours - idleHoursPerDay);
        }

        return new ScheduledHours(
            TimeZoneInfo.ConvertTime(from, schedule.Zone),
            TimeZoneInfo.ConvertTime(to, schedule.Zone),
            (decimal)(to - from).Ticks / TimeSpan.TicksPerHour,
            up,
            run,
            days,
            idleHoursPerDay);
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
