namespace SpotDevBox.Core.Schedules;

/// <summary>One rule's period on one local date, as UTC instants: up from <see cref="Start"/> (inclusive) to <see cref="End"/> (exclusive).</summary>
internal sealed record ScheduleWindow(DateTimeOffset Start, DateTimeOffset End, ScheduleRule Rule, DateOnly Day);

/// <summary>
/// The schedule without overrides, as UTC windows. Local times become instants by one rule: a time in the
/// spring-forward gap is the first valid instant after it (the moment the clocks jump), a time in the repeated
/// autumn hour is its first occurrence. Windows that touch or overlap merge, so the box is never stopped and
/// started at the same instant.
/// </summary>
internal sealed class ScheduleTimeline(BoxSchedule schedule)
{
    /// <summary>How far Evaluate and its helpers look for a window's edges or the next change.</summary>
    public static readonly TimeSpan Horizon = TimeSpan.FromDays(366);

    private readonly Dictionary<DateOnly, IReadOnlyList<ScheduleWindow>> _days = [];

    public TimeZoneInfo Zone => schedule.Zone;

    public DateOnly LocalDate(DateTimeOffset instant) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, Zone).DateTime);

    public DateTimeOffset Local(DateTimeOffset instant) => TimeZoneInfo.ConvertTime(instant, Zone);

    /// <summary>The rules that decide <paramref name="day"/>: those of the most specific kind that matches it.</summary>
    public IReadOnlyList<ScheduleRule> DecidingRules(DateOnly day)
    {
        var matching = schedule.Rules.Where(r => r.Days.Matches(day)).ToList();
        if (matching.Count == 0)
        {
            return [];
        }

        var top = matching.Max(r => r.Days.Specificity);
        return [.. matching.Where(r => r.Days.Specificity == top)];
    }

    /// <summary>The off rule that empties <paramref name="day"/>, if one does (within a kind, off wins over periods).</summary>
    public ScheduleRule? OffRule(DateOnly day) => DecidingRules(day).FirstOrDefault(r => r.IsOff);

    /// <summary>The windows that start on a local date, by start.</summary>
    public IReadOnlyList<ScheduleWindow> WindowsOn(DateOnly day)
    {
        if (_days.TryGetValue(day, out var cached))
        {
            return cached;
        }

        var rules = DecidingRules(day);
        IReadOnlyList<ScheduleWindow> windows = rules.Any(r => r.IsOff)
            ? []
            : [.. rules
                .Select(r => new ScheduleWindow(
                    ToInstant(day.ToDateTime(r.Window!.Start)),
                    ToInstant((r.Window.EndsNextDay ? day.AddDays(1) : day).ToDateTime(r.Window.Stop)),
                    r,
                    day))
                // A period that lies wholly inside a spring-forward gap does not happen that day.
                .Where(w => w.End > w.Start)
                .OrderBy(w => w.Start)];
        _days[day] = windows;
        return windows;
    }

    /// <summary>A wall-clock time in the zone as an instant, by the gap and overlap rules above.</summary>
    public DateTimeOffset ToInstant(DateTime local)
    {
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        if (Zone.IsInvalidTime(local))
        {
            // Times are whole minutes and so are transitions, so the first valid minute is the moment the clocks jumped.
            var limit = local.AddDays(1);
            while (Zone.IsInvalidTime(local) && local < limit)
            {
                local = local.AddMinutes(1);
            }
        }

        var offset = Zone.IsAmbiguousTime(local) ? Zone.GetAmbiguousTimeOffsets(local).Max() : Zone.GetUtcOffset(local);
        return new DateTimeOffset(local, offset).ToUniversalTime();
    }

    /// <summary>The windows that contain <paramref name="instant"/> (start inclusive, end exclusive).</summary>
    public IReadOnlyList<ScheduleWindow> WindowsAt(DateTimeOffset instant)
    {
        var day = LocalDate(instant);
        return [.. Around(day).Where(w => w.Start <= instant && instant < w.End)];
    }

    public bool IsUp(DateTimeOffset instant) => WindowsAt(instant).Count > 0;

    /// <summary>
    /// The merged up-interval that contains <paramref name="instant"/>, or null when the schedule has the box down then.
    /// Start or End is null when the interval reaches past <see cref="Horizon"/>.
    /// </summary>
    public (DateTimeOffset? Start, DateTimeOffset? End)? IntervalAt(DateTimeOffset instant)
    {
        var containing = WindowsAt(instant);
        if (containing.Count == 0)
        {
            return null;
        }

        DateTimeOffset? start = containing.Min(w => w.Start);
        while (start is { } s && Around(LocalDate(s)).Where(w => w.Start < s && w.End >= s).Select(w => (DateTimeOffset?)w.Start).Min() is { } earlier)
        {
            start = instant - earlier > Horizon ? null : earlier;
        }

        DateTimeOffset? end = containing.Max(w => w.End);
        while (end is { } e && Around(LocalDate(e)).Where(w => w.Start <= e && w.End > e).Select(w => (DateTimeOffset?)w.End).Max() is { } later)
        {
            end = later - instant > Horizon ? null : later;
        }

        return (start, end);
    }

    /// <summary>The start of the first up-interval after <paramref name="instant"/> (exclusive), within <see cref="Horizon"/>.</summary>
    public DateTimeOffset? NextStartAfter(DateTimeOffset instant)
    {
        if (IntervalAt(instant) is { } current)
        {
            if (current.End is not { } end)
            {
                return null;
            }

            instant = end;
        }

        // Outside every window, the earliest later window start begins an interval (nothing earlier reaches it).
        var first = LocalDate(instant).AddDays(-1);
        var last = LocalDate(instant + Horizon);
        DateTimeOffset? best = null;
        for (var day = first; day <= last; day = day.AddDays(1))
        {
            foreach (var w in WindowsOn(day).Where(w => w.Start > instant))
            {
                best = best is null || w.Start < best ? w.Start : best;
            }

            // A window of a later date starts at the earliest on that date's midnight; two dates on is safely past any gap shift.
            if (best is { } b && LocalDate(b) < day.AddDays(-1))
            {
                break;
            }
        }

        return best is { } found && found - instant <= Horizon ? found : null;
    }

    /// <summary>The instants after <paramref name="instant"/> where the schedule alone changes between up and down, in order, within <see cref="Horizon"/>.</summary>
    public IEnumerable<DateTimeOffset> BoundariesAfter(DateTimeOffset instant)
    {
        var at = instant;
        while (true)
        {
            if (IntervalAt(at) is { } current)
            {
                if (current.End is not { } end)
                {
                    yield break;
                }

                if (end > instant)
                {
                    yield return end;
                }

                at = end;
            }

            if (NextStartAfter(at) is not { } start || start - instant > Horizon)
            {
                yield break;
            }

            yield return start;
            at = start;
        }
    }

    /// <summary>Merged up-intervals from the windows of local dates first..last, by start.</summary>
    public List<(DateTimeOffset Start, DateTimeOffset End, ScheduleWindow First, ScheduleWindow Last)> Merge(DateOnly first, DateOnly last)
    {
        var merged = new List<(DateTimeOffset Start, DateTimeOffset End, ScheduleWindow First, ScheduleWindow Last)>();
        var windows = new List<ScheduleWindow>();
        for (var day = first; day <= last; day = day.AddDays(1))
        {
            windows.AddRange(WindowsOn(day));
        }

        foreach (var w in windows.OrderBy(w => w.Start))
        {
            if (merged.Count > 0 && w.Start <= merged[^1].End)
            {
                var m = merged[^1];
                merged[^1] = w.End > m.End ? (m.Start, w.End, m.First, w) : m;
            }
            else
            {
                merged.Add((w.Start, w.End, w, w));
            }
        }

        return merged;
    }

    // A window that contains or touches an instant started on its local date or one of the two before
    // (a period lasts at most a day and a DST hour, and a gap shift moves a start by at most a day).
    private IEnumerable<ScheduleWindow> Around(DateOnly day) =>
        WindowsOn(day.AddDays(-2)).Concat(WindowsOn(day.AddDays(-1))).Concat(WindowsOn(day));
}
