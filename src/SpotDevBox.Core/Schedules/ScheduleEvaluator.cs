using System.Globalization;

namespace SpotDevBox.Core.Schedules;

/// <summary>
/// The schedule rule in one place: whether a box should be up at an instant (and why), and the starts and stops
/// ahead. Pure: no clock, no I/O. Quartz triggers, reconcile, <c>status</c> and <c>schedule --next</c> all derive from these.
/// </summary>
public static class ScheduleEvaluator
{
    /// <summary>Should the box be up at <paramref name="instant"/>, and why. Periods start inclusive and stop exclusive.</summary>
    public static ScheduleDecision Evaluate(BoxSchedule schedule, IReadOnlyList<ScheduleOverride> overrides, DateTimeOffset instant)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(overrides);
        instant = instant.ToUniversalTime();
        var timeline = new ScheduleTimeline(schedule);
        var active = ActiveOverride(overrides, instant);
        var windows = timeline.WindowsAt(instant);
        var interval = windows.Count > 0 ? timeline.IntervalAt(instant) : null;
        var up = active is not null ? active.Kind == OverrideKind.Up : windows.Count > 0;
        var next = NextChange(timeline, overrides, instant, up);

        if (active is not null)
        {
            return new(up, DecisionSource.Override, OverrideReason(timeline, active, instant), null, active, interval?.Start, interval?.End, next);
        }

        if (up)
        {
            return new(true, DecisionSource.Period, $"inside {windows[0].Rule} ({schedule.Zone.Id})", windows[0].Rule, null, interval?.Start, interval?.End, next);
        }

        var off = timeline.OffRule(timeline.LocalDate(instant));
        var nextText = next is { } n ? $"next start {When(timeline, n, instant)}" : $"no start within {ScheduleTimeline.Horizon.Days} days";
        return off is not null
            ? new(false, DecisionSource.DayOff, $"day off by '{off}'; {nextText}", off, null, null, null, next)
            : new(false, DecisionSource.Outside, $"outside every period; {nextText}", null, null, null, null, next);
    }

    /// <summary>
    /// The starts and stops in (<paramref name="from"/>, <paramref name="to"/>], in order. Each is an instant where
    /// <see cref="Evaluate"/> flips: Up at the transition, the opposite just before it.
    /// </summary>
    public static IEnumerable<ScheduleTransition> Transitions(BoxSchedule schedule, IReadOnlyList<ScheduleOverride> overrides, DateTimeOffset from, DateTimeOffset to)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(overrides);
        return TransitionsCore(schedule, overrides, from.ToUniversalTime(), to.ToUniversalTime());
    }

    private static IEnumerable<ScheduleTransition> TransitionsCore(BoxSchedule schedule, IReadOnlyList<ScheduleOverride> overrides, DateTimeOffset from, DateTimeOffset to)
    {
        if (to <= from)
        {
            yield break;
        }

        var timeline = new ScheduleTimeline(schedule);

        // Windows of earlier dates end before `from`, windows of later dates start after `to`: the merged
        // intervals' edges inside (from, to] are exact.
        var merged = timeline.Merge(timeline.LocalDate(from).AddDays(-2), timeline.LocalDate(to).AddDays(1));
        var points = merged.SelectMany(m => new[] { m.Start, m.End })
            .Concat(overrides.SelectMany(o => new[] { o.From, o.Until }))
            .Where(p => p > from && p <= to)
            .Distinct()
            .Order();

        var previousOverride = ActiveOverride(overrides, from);
        var state = previousOverride is not null ? previousOverride.Kind == OverrideKind.Up : timeline.IsUp(from);
        foreach (var at in points)
        {
            var active = ActiveOverride(overrides, at);
            var interval = merged.FirstOrDefault(m => m.Start <= at && at < m.End);
            var scheduled = interval != default;
            var up = active is not null ? active.Kind == OverrideKind.Up : scheduled;
            if (up != state)
            {
                string reason;
                if (active is not null)
                {
                    reason = OverrideReason(timeline, active, at);
                }
                else if (previousOverride is not null)
                {
                    reason = $"override of {previousOverride.SetBy} ended; " + (up ? $"inside {timeline.WindowsAt(at)[0].Rule}" : "outside every period");
                }
                else if (up)
                {
                    reason = $"start of {interval.First.Rule}{DstNote(timeline, at, interval.First.Rule.Window!.Start)}";
                }
                else
                {
                    var ended = merged.First(m => m.End == at).Last.Rule;
                    reason = $"end of {ended}{DstNote(timeline, at, ended.Window!.Stop)}";
                }

                yield return new ScheduleTransition(at, timeline.Local(at), schedule.Zone.Id, up, reason);
                state = up;
            }

            previousOverride = active;
        }
    }

    /// <summary>The override in effect at an instant: of those active, the one set last (latest From; on a tie, later in the list).</summary>
    internal static ScheduleOverride? ActiveOverride(IReadOnlyList<ScheduleOverride> overrides, DateTimeOffset instant)
    {
        ScheduleOverride? winner = null;
        foreach (var o in overrides)
        {
            if (o.IsActiveAt(instant) && (winner is null || o.From >= winner.From))
            {
                winner = o;
            }
        }

        return winner;
    }

    /// <summary>"Mon 08:30" within six days of <paramref name="relativeTo"/>, "Mon 2026-12-28 08:30" further away.</summary>
    internal static string When(ScheduleTimeline timeline, DateTimeOffset at, DateTimeOffset relativeTo)
    {
        var local = timeline.Local(at);
        var format = (at - relativeTo).Duration() < TimeSpan.FromDays(6) ? "ddd HH:mm" : "ddd yyyy-MM-dd HH:mm";
        return local.ToString(format, CultureInfo.InvariantCulture);
    }

    private static string OverrideReason(ScheduleTimeline timeline, ScheduleOverride active, DateTimeOffset instant) =>
        $"{(active.Kind == OverrideKind.Up ? "up" : "down")} until {When(timeline, active.Until, instant)} by override of {active.SetBy}";

    /// <summary>Says so when a DST change moved a start or stop off its written time.</summary>
    private static string DstNote(ScheduleTimeline timeline, DateTimeOffset at, TimeOnly written)
    {
        var local = timeline.Local(at);
        var wall = TimeOnly.FromDateTime(local.DateTime);
        if (wall != written)
        {
            return string.Create(CultureInfo.InvariantCulture, $"; {written:HH:mm} does not exist on {local:yyyy-MM-dd} (clocks go forward), so at {wall:HH:mm}");
        }

        return timeline.Zone.IsAmbiguousTime(local.DateTime)
            ? string.Create(CultureInfo.InvariantCulture, $"; the first of the two {written:HH:mm} on {local:yyyy-MM-dd} (clocks go back)")
            : "";
    }

    private static DateTimeOffset? NextChange(ScheduleTimeline timeline, IReadOnlyList<ScheduleOverride> overrides, DateTimeOffset instant, bool up)
    {
        var overridePoints = overrides.SelectMany(o => new[] { o.From, o.Until }).Where(p => p > instant).Distinct().Order().ToList();
        using var boundaries = timeline.BoundariesAfter(instant).GetEnumerator();
        var hasBoundary = boundaries.MoveNext();
        var i = 0;
        while (hasBoundary || i < overridePoints.Count)
        {
            DateTimeOffset at;
            if (hasBoundary && (i >= overridePoints.Count || boundaries.Current <= overridePoints[i]))
            {
                at = boundaries.Current;
                if (i < overridePoints.Count && overridePoints[i] == at)
                {
                    i++;
                }

                hasBoundary = boundaries.MoveNext();
            }
            else
            {
                at = overridePoints[i++];
            }

            var active = ActiveOverride(overrides, at);
            if ((active is not null ? active.Kind == OverrideKind.Up : timeline.IsUp(at)) != up)
            {
                return at;
            }
        }

        return null;
    }
}
