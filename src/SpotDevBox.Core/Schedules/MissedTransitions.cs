namespace SpotDevBox.Core.Schedules;

/// <summary>Whether and how a box's missed starts are caught up after the controller was down.</summary>
/// <param name="Enforce">Start a box whose start was missed when the controller comes back inside the window.</param>
/// <param name="Grace">Only within this long after the missed start; null: anywhere in the window.</param>
public sealed record MissedStartPolicy(bool Enforce, TimeSpan? Grace)
{
    public static MissedStartPolicy Default { get; } = new(true, null);
}

public enum CatchUpAction
{
    /// <summary>Nothing was missed: the controller ran through the last transition, or there was none.</summary>
    None,

    /// <summary>A start was missed and the box should be started now.</summary>
    StartNow,

    /// <summary>A stop was missed (or the box should not be up) and it should be stopped now.</summary>
    StopNow,

    /// <summary>A start was missed but is not caught up: outside the window now, or the policy says no.</summary>
    Skip,
}

/// <param name="Action">What the controller should do now.</param>
/// <param name="MissedAt">The start or stop the controller did not see, if any.</param>
/// <param name="Reason">"controller was down at Mon 08:30 (start); it is Mon 09:10, inside Mon-Fri 08:30-19:00 (Europe/Berlin): start now".</param>
public sealed record CatchUp(CatchUpAction Action, DateTimeOffset? MissedAt, string Reason);

/// <summary>
/// Enforcement after downtime: given when the controller last ran (null: never, as far as it knows) and now,
/// whether a start or stop it did not see should happen now. Pure; the controller calls it at start-up.
/// </summary>
public static class MissedTransitions
{
    public static CatchUp MissedStart(
        BoxSchedule schedule, IReadOnlyList<ScheduleOverride> overrides, DateTimeOffset? lastRun, DateTimeOffset now, MissedStartPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(overrides);
        ArgumentNullException.ThrowIfNull(policy);
        var timeline = new ScheduleTimeline(schedule);
        var decision = ScheduleEvaluator.Evaluate(schedule, overrides, now);
        DateTimeOffset? missed;
        string what;
        if (lastRun is { } last)
        {
            missed = ScheduleEvaluator.Transitions(schedule, overrides, last, now).LastOrDefault(t => t.Up)?.At;
            what = missed is { } m ? $"controller was down at {ScheduleEvaluator.When(timeline, m, now)} (start)" : "";
            if (missed is null)
            {
                return new(CatchUpAction.None, null, $"no start since the controller last ran at {ScheduleEvaluator.When(timeline, last, now)}; {decision.Reason}");
            }
        }
        else
        {
            // Never ran (or lost its record): treat the start of the current up-period as the one missed.
            missed = !decision.Up ? null : decision.Override is { } o ? o.From : decision.WindowStart;
            what = missed is { } m ? $"no record of the controller running at {ScheduleEvaluator.When(timeline, m, now)} (start)" : "no record of the controller running before";
            if (!decision.Up)
            {
                return new(CatchUpAction.None, null, $"{what}; {decision.Reason}");
            }
        }

        var it = $"{what}; it is {ScheduleEvaluator.When(timeline, now, now)}, {decision.Reason}";
        if (!decision.Up)
        {
            return new(CatchUpAction.Skip, missed, $"{it}: the missed start is skipped");
        }

        if (!policy.Enforce)
        {
            return new(CatchUpAction.Skip, missed, $"{it}: missed starts are not enforced (EnforceMissedStarts is false)");
        }

        if (policy.Grace is { } grace && missed is { } at && now - at > grace)
        {
            return new(CatchUpAction.Skip, missed, $"{it}: {Span(now - at)} after the start, beyond MissedStartGrace {grace:c}");
        }

        return new(CatchUpAction.StartNow, missed, $"{it}: start now");
    }

    /// <summary>A missed stop is always enforced when the box should be down now: a box up outside its window costs money.</summary>
    public static CatchUp MissedStop(BoxSchedule schedule, IReadOnlyList<ScheduleOverride> overrides, DateTimeOffset? lastRun, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(overrides);
        var timeline = new ScheduleTimeline(schedule);
        var decision = ScheduleEvaluator.Evaluate(schedule, overrides, now);
        string what;
        DateTimeOffset? missed = null;
        if (lastRun is { } last)
        {
            missed = ScheduleEvaluator.Transitions(schedule, overrides, last, now).LastOrDefault(t => !t.Up)?.At;
            if (missed is not { } m)
            {
                return new(CatchUpAction.None, null, $"no stop since the controller last ran at {ScheduleEvaluator.When(timeline, last, now)}; {decision.Reason}");
            }

            what = $"controller was down at {ScheduleEvaluator.When(timeline, m, now)} (stop)";
        }
        else
        {
            what = "no record of the controller running before";
        }

        var it = $"{what}; it is {ScheduleEvaluator.When(timeline, now, now)}, {decision.Reason}";
        return decision.Up
            ? new(CatchUpAction.None, missed, $"{it}: stays up")
            : new(CatchUpAction.StopNow, missed, $"{it}: stop now");
    }

    private static string Span(TimeSpan span) =>
        span.TotalHours >= 1 ? $"{(int)span.TotalHours}h{span.Minutes:00}m" : $"{span.Minutes}m";
}
