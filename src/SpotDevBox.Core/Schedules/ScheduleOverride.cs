namespace SpotDevBox.Core.Schedules;

public enum OverrideKind
{
    /// <summary>Up whatever the schedule says (<c>spotdevbox up --for 3h</c>).</summary>
    Up,

    /// <summary>Down whatever the schedule says (<c>spotdevbox down --until monday</c>).</summary>
    Down,
}

/// <summary>
/// A person's exception to the schedule, in effect from <see cref="From"/> (inclusive) to <see cref="Until"/>
/// (exclusive); afterwards the schedule rules again. When several are in effect the one set last (latest
/// <see cref="From"/>) wins.
/// </summary>
public sealed record ScheduleOverride
{
    public ScheduleOverride(OverrideKind kind, DateTimeOffset from, DateTimeOffset until, string setBy, string? note = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(setBy);
        if (until <= from)
        {
            throw new ArgumentException($"An override must end after it starts: from {from:O}, until {until:O}", nameof(until));
        }

        Kind = kind;
        From = from.ToUniversalTime();
        Until = until.ToUniversalTime();
        SetBy = setBy;
        Note = note;
    }

    public OverrideKind Kind { get; }
    public DateTimeOffset From { get; }
    public DateTimeOffset Until { get; }
    public string SetBy { get; }

    /// <summary>Free text for status ("demo for the customer").</summary>
    public string? Note { get; }

    public bool IsActiveAt(DateTimeOffset instant) => From <= instant && instant < Until;

    /// <summary><c>up --for 3h</c>: up from now until now + duration.</summary>
    public static ScheduleOverride UpFor(TimeSpan duration, DateTimeOffset now, string setBy, string? note = null) =>
        duration > TimeSpan.Zero
            ? new(OverrideKind.Up, now, now + duration, setBy, note)
            : throw new ArgumentOutOfRangeException(nameof(duration), duration, "An up override needs a positive duration");

    /// <summary>
    /// <c>down --until monday</c>: down from now until the schedule's first start on the next such day (strictly
    /// after today in the schedule's zone), or that day's midnight when the schedule has no start then.
    /// </summary>
    public static ScheduleOverride DownUntil(BoxSchedule schedule, DayOfWeek day, DateTimeOffset now, string setBy, string? note = null)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        var timeline = new ScheduleTimeline(schedule);
        var today = timeline.LocalDate(now);
        var ahead = ((int)day - (int)today.DayOfWeek + 7) % 7;
        var target = today.AddDays(ahead == 0 ? 7 : ahead);
        return DownUntil(schedule, target, now, setBy, note);
    }

    /// <summary><c>down --until 2026-12-28</c>: down until the schedule's first start on that local date, or its midnight.</summary>
    public static ScheduleOverride DownUntil(BoxSchedule schedule, DateOnly date, DateTimeOffset now, string setBy, string? note = null)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        var timeline = new ScheduleTimeline(schedule);
        var until = timeline.WindowsOn(date).Select(w => (DateTimeOffset?)w.Start).FirstOrDefault() ?? timeline.ToInstant(date.ToDateTime(TimeOnly.MinValue));
        return new(OverrideKind.Down, now, until, setBy, note);
    }

    /// <summary>
    /// <c>down</c> with no end: down until the schedule next starts the box (skipping the rest of the current
    /// window), so reconcile does not bring it straight back. Null when the schedule has no start within a year.
    /// </summary>
    public static ScheduleOverride? DownUntilNextStart(BoxSchedule schedule, DateTimeOffset now, string setBy, string? note = null)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        return new ScheduleTimeline(schedule).NextStartAfter(now) is { } next ? new(OverrideKind.Down, now, next, setBy, note) : null;
    }
}
