using System.Globalization;

namespace SpotDevBox.Core.Schedules;

/// <summary>What decided a <see cref="ScheduleDecision"/>.</summary>
public enum DecisionSource
{
    /// <summary>Inside a period of the schedule.</summary>
    Period,

    /// <summary>Outside every period.</summary>
    Outside,

    /// <summary>Outside because an off rule empties the day ("2026-12-24 off").</summary>
    DayOff,

    /// <summary>A person's override, whatever the schedule says.</summary>
    Override,
}

/// <summary>Should the box be up at an instant, and why.</summary>
/// <param name="Up">The box should be running.</param>
/// <param name="Source">What decided.</param>
/// <param name="Reason">The decision in words: "inside Mon-Fri 08:30-19:00 (Europe/Berlin)", "down until Mon 08:30 by override of alice".</param>
/// <param name="Rule">The period's rule (inside), or the off rule (day off); null otherwise.</param>
/// <param name="Override">The override in effect, if one decided.</param>
/// <param name="WindowStart">When the schedule's up-window containing the instant began (touching periods count as one), whether or not an override is in effect; null outside or beyond a year back.</param>
/// <param name="WindowEnd">When that window ends (exclusive); null outside or beyond a year ahead.</param>
/// <param name="NextChange">The next instant <see cref="Up"/> flips, overrides included; null when none within a year.</param>
public sealed record ScheduleDecision(
    bool Up,
    DecisionSource Source,
    string Reason,
    ScheduleRule? Rule,
    ScheduleOverride? Override,
    DateTimeOffset? WindowStart,
    DateTimeOffset? WindowEnd,
    DateTimeOffset? NextChange);

/// <summary>A start or stop the schedule and overrides will cause, in UTC and in the box's zone.</summary>
/// <param name="At">The instant, in UTC.</param>
/// <param name="LocalTime">The same instant at the box zone's offset.</param>
/// <param name="Zone">The box's zone id.</param>
/// <param name="Up">True for a start, false for a stop.</param>
/// <param name="Reason">"start of Mon-Fri 08:30-19:00 (Europe/Berlin)", "override of alice ended; outside every period".</param>
public sealed record ScheduleTransition(DateTimeOffset At, DateTimeOffset LocalTime, string Zone, bool Up, string Reason)
{
    /// <summary>
    /// One line for <c>spotdevbox schedule --next</c>:
    /// <c>start  Mon 2026-03-09 08:30 +01:00 Europe/Berlin = 2026-03-09 07:30 UTC  start of Mon-Fri 08:30-19:00</c>.
    /// </summary>
    public override string ToString() =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"{(Up ? "start" : "stop "),-5}  {LocalTime:ddd yyyy-MM-dd HH:mm} {LocalTime:zzz} {Zone} = {At.UtcDateTime:yyyy-MM-dd HH:mm} UTC  {Reason}");
}
