using System.Globalization;

namespace SpotDevBox.Core.Schedules;

/// <summary>Days of the week as a set, so a rule's days compare by value and print in one canonical order (Monday first).</summary>
[Flags]
public enum Weekdays
{
    None = 0,
    Monday = 1,
    Tuesday = 2,
    Wednesday = 4,
    Thursday = 8,
    Friday = 16,
    Saturday = 32,
    Sunday = 64,
    All = 127,
}

/// <summary>Which occurrence of a weekday in its month a rule means.</summary>
public enum WeekOfMonth
{
    Last = 0,
    First = 1,
    Second = 2,
    Third = 3,
    Fourth = 4,
    Fifth = 5,
}

/// <summary>
/// The local dates a rule applies to. The kinds rank by how specific they are: a date beats an nth/last weekday,
/// which beats a set of weekdays; on any one date only the rules of the most specific kind that matches it count.
/// </summary>
public abstract record DaySelector
{
    /// <summary>Higher wins: 1 weekdays, 2 nth/last weekday of the month, 3 a date.</summary>
    internal abstract int Specificity { get; }

    public abstract bool Matches(DateOnly day);
}

/// <summary>Every week on these days: "Mon-Fri", "Mon,Wed,Fri", "Sat-Sun", "daily".</summary>
public sealed record WeekdaySelector(Weekdays Days) : DaySelector
{
    internal override int Specificity => 1;

    public override bool Matches(DateOnly day) => (Days & Flag(day.DayOfWeek)) != 0;

    public override string ToString()
    {
        // Runs of consecutive days print as ranges, Monday first: Mon-Fri, Mon,Wed,Fri, Mon-Wed,Sat-Sun.
        var parts = new List<string>();
        var order = ScheduleText.WeekOrder;
        for (var i = 0; i < order.Count;)
        {
            if ((Days & Flag(order[i])) == 0)
            {
                i++;
                continue;
            }

            var j = i;
            while (j + 1 < order.Count && (Days & Flag(order[j + 1])) != 0)
            {
                j++;
            }

            parts.Add(j == i ? ScheduleText.DayName(order[i]) : $"{ScheduleText.DayName(order[i])}-{ScheduleText.DayName(order[j])}");
            i = j + 1;
        }

        return string.Join(',', parts);
    }

    internal static Weekdays Flag(DayOfWeek day) => day == DayOfWeek.Sunday ? Weekdays.Sunday : (Weekdays)(1 << ((int)day - 1));
}

/// <summary>The nth or last given weekday of every month: "first Mon", "last Fri". A fifth one exists only in some months.</summary>
public sealed record MonthlySelector(WeekOfMonth Week, DayOfWeek Day) : DaySelector
{
    internal override int Specificity => 2;

    public override bool Matches(DateOnly day) =>
        day.DayOfWeek == Day
        && (Week == WeekOfMonth.Last ? day.AddDays(7).Month != day.Month : ((day.Day - 1) / 7) + 1 == (int)Week);

    public override string ToString() => $"{Week.ToString().ToLowerInvariant()} {ScheduleText.DayName(Day)}";
}

/// <summary>One calendar date, in the schedule's zone: "2026-12-24".</summary>
public sealed record DateSelector(DateOnly Date) : DaySelector
{
    internal override int Specificity => 3;

    public override bool Matches(DateOnly day) => day == Date;

    public override string ToString() => Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}

/// <summary>
/// A period of one day in local time. A stop at or before the start (00:00 is written 24:00) ends on the next
/// day: "22:00-02:00" runs from 22:00 to 02:00 the day after, "00:00-24:00" is the whole day.
/// </summary>
public sealed record TimeWindow(TimeOnly Start, TimeOnly Stop)
{
    public bool EndsNextDay => Stop <= Start;

    public override string ToString() =>
        $"{Start.ToString("HH:mm", CultureInfo.InvariantCulture)}-{(Stop == TimeOnly.MinValue ? "24:00" : Stop.ToString("HH:mm", CultureInfo.InvariantCulture))}";
}

/// <summary>One line of a schedule: on these days, up in this window, or (with no window) off.</summary>
public sealed record ScheduleRule(DaySelector Days, TimeWindow? Window)
{
    public bool IsOff => Window is null;

    /// <summary>Parses one rule, e.g. "Mon-Fri 08:30-19:00", "last Fri 13:00-17:00", "2026-12-24 off".</summary>
    /// <exception cref="ScheduleFormatException">The text is not one rule; the message says where and why.</exception>
    public static ScheduleRule Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return ScheduleText.TryParseRule(text, 0, out var rule, out var error) ? rule : throw new ScheduleFormatException([error]);
    }

    public override string ToString() => $"{Days} {(Window is null ? "off" : Window.ToString())}";
}
