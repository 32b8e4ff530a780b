using SpotDevBox.Core.Schedules;

namespace SpotDevBox.Core.Tests.Schedules;

[Trait("Category", "Calendar")]
public sealed class ScheduleTransitionsTests
{
    private static readonly BoxSchedule Office = BoxSchedule.Parse("Europe/Berlin", "Mon-Fri 08:30-19:00");

    private static DateTimeOffset Utc(int month, int day, int hour, int minute = 0) => new(2026, month, day, hour, minute, 0, TimeSpan.Zero);

    [Fact]
    public void Transitions_NextSevenDays_StartsAndStopsInOrder()
    {
        // From Sat 2026-06-06 12:00 UTC: Mon..Fri 06:30/17:00 UTC (CEST), then nothing to Sat 12:00.
        var transitions = ScheduleEvaluator.Transitions(Office, [], Utc(6, 6, 12), Utc(6, 13, 12)).ToList();

        Assert.Equal(10, transitions.Count);
        Assert.Equal((Utc(6, 8, 6, 30), true, "start of Mon-Fri 08:30-19:00"), (transitions[0].At, transitions[0].Up, transitions[0].Reason));
        Assert.Equal((Utc(6, 8, 17), false, "end of Mon-Fri 08:30-19:00"), (transitions[1].At, transitions[1].Up, transitions[1].Reason));
        Assert.Equal(Utc(6, 12, 17), transitions[^1].At);
    }

    [Fact]
    public void Transitions_RangeIsExclusiveOfFromInclusiveOfTo()
    {
        var transitions = ScheduleEvaluator.Transitions(Office, [], Utc(6, 8, 6, 30), Utc(6, 9, 6, 30)).Select(t => t.At);

        Assert.Equal([Utc(6, 8, 17), Utc(6, 9, 6, 30)], transitions);
    }

    [Fact]
    public void Transitions_ToString_OneLineInTheZoneAndUtc()
    {
        var first = ScheduleEvaluator.Transitions(Office, [], Utc(6, 6, 12), Utc(6, 13, 12)).Take(2).ToList();

        Assert.Equal("start  Mon 2026-06-08 08:30 +02:00 Europe/Berlin = 2026-06-08 06:30 UTC  start of Mon-Fri 08:30-19:00", first[0].ToString());
        Assert.Equal("stop   Mon 2026-06-08 19:00 +02:00 Europe/Berlin = 2026-06-08 17:00 UTC  end of Mon-Fri 08:30-19:00", first[1].ToString());
    }

    [Fact]
    public void Transitions_WithOverrides_NameWhoAndWhen()
    {
        // alice, Wed 2026-06-03 10:00 CEST: down until Monday's start; bob, Sat 10:00 CEST: up for 3 h.
        var down = ScheduleOverride.DownUntil(Office, DayOfWeek.Monday, Utc(6, 3, 8), "alice");
        var up = ScheduleOverride.UpFor(TimeSpan.FromHours(3), Utc(6, 6, 8), "bob");

        var transitions = ScheduleEvaluator.Transitions(Office, [down, up], Utc(6, 3, 7), Utc(6, 8, 18)).ToList();

        Assert.Collection(
            transitions,
            t => Assert.Equal((Utc(6, 3, 8), false, "down until Mon 08:30 by override of alice"), (t.At, t.Up, t.Reason)),
            t => Assert.Equal((Utc(6, 6, 8), true, "up until Sat 13:00 by override of bob"), (t.At, t.Up, t.Reason)),
            t => Assert.Equal((Utc(6, 6, 11), false, "down until Mon 08:30 by override of alice"), (t.At, t.Up, t.Reason)),
            t => Assert.Equal((Utc(6, 8, 6, 30), true, "override of alice ended; inside Mon-Fri 08:30-19:00"), (t.At, t.Up, t.Reason)),
            t => Assert.Equal((Utc(6, 8, 17), false, "end of Mon-Fri 08:30-19:00"), (t.At, t.Up, t.Reason)));
    }

    [Fact]
    public void Transitions_TouchingPeriods_NoStopAndStartAtTheSameInstant()
    {
        var schedule = BoxSchedule.Parse("Europe/Berlin", "Mon 20:00-24:00; Tue 00:00-06:00; Tue 05:00-09:00");

        var transitions = ScheduleEvaluator.Transitions(schedule, [], Utc(6, 1, 0), Utc(6, 3, 0)).Select(t => (t.At, t.Up));

        Assert.Equal([(Utc(6, 1, 18), true), (Utc(6, 2, 7), false)], transitions);
    }

    public static TheoryData<string, string, string[]> YearSchedules => new()
    {
        { "Europe/Berlin", "Mon-Fri 08:30-19:00; last Fri 13:00-17:00; first Mon off; 2026-12-24 off; 2026-12-27 10:00-16:00", [] },
        { "America/New_York", "daily 01:30-02:30; Sat 22:00-02:15; Sun 02:00-03:00; fifth Wed 00:00-24:00", ["up"] },
        { "Australia/Sydney", "Mon,Wed,Fri 02:00-03:00; Sun 23:00-24:00; Mon 00:00-01:00; first Sun 02:30-02:45; Thu 21:00-20:00", ["down"] },
    };

    /// <summary>
    /// Over 2026 at 15-minute steps: every transition is an instant where Evaluate flips to the transition's state,
    /// the state Evaluate gives at every step is the one the transitions before it leave, and Evaluate's next change
    /// is the next transition.
    /// </summary>
    [Theory]
    [MemberData(nameof(YearSchedules))]
    public void Transitions_AgreeWithEvaluate_OverAYearAtQuarterHours(string zone, string text, string[] overrideKinds)
    {
        var schedule = BoxSchedule.Parse(zone, text);
        var from = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var to = from.AddYears(1);
        List<ScheduleOverride> overrides = [];
        foreach (var kind in overrideKinds)
        {
            // Overrides that start and end off the quarter-hour grid, across DST changes.
            overrides.Add(new ScheduleOverride(kind == "up" ? OverrideKind.Up : OverrideKind.Down, Utc(3, 7, 23, 7), Utc(3, 9, 1, 53), "alice"));
            overrides.Add(new ScheduleOverride(kind == "up" ? OverrideKind.Down : OverrideKind.Up, Utc(10, 3, 10, 10), Utc(10, 3, 19, 19), "bob"));
        }

        var transitions = ScheduleEvaluator.Transitions(schedule, overrides, from, to).ToList();
        Assert.True(transitions.Count > 100, $"only {transitions.Count} transitions");

        // Consecutive transitions alternate, and each one is where Evaluate flips.
        for (var i = 0; i < transitions.Count; i++)
        {
            var t = transitions[i];
            Assert.Equal(t.Up, ScheduleEvaluator.Evaluate(schedule, overrides, t.At).Up);
            Assert.Equal(!t.Up, ScheduleEvaluator.Evaluate(schedule, overrides, t.At.AddTicks(-1)).Up);
            if (i > 0)
            {
                Assert.NotEqual(transitions[i - 1].Up, t.Up);
            }
        }

        // Transitions listed a week at a time are the same as listed for the year at once.
        var weekly = new List<ScheduleTransition>();
        for (var start = from; start < to; start = start.AddDays(7))
        {
            weekly.AddRange(ScheduleEvaluator.Transitions(schedule, overrides, start, start.AddDays(7) < to ? start.AddDays(7) : to));
        }

        Assert.Equal(transitions.Select(t => (t.At, t.Up)), weekly.Select(t => (t.At, t.Up)));

        var state = ScheduleEvaluator.Evaluate(schedule, overrides, from).Up;
        var next = 0;
        for (var at = from; at < to; at = at.AddMinutes(15))
        {
            while (next < transitions.Count && transitions[next].At <= at)
            {
                state = transitions[next++].Up;
            }

            var decision = ScheduleEvaluator.Evaluate(schedule, overrides, at);
            Assert.True(state == decision.Up, $"{at:O}: transitions say {(state ? "up" : "down")}, Evaluate says {decision.Reason}");
            if (next < transitions.Count)
            {
                Assert.Equal(transitions[next].At, decision.NextChange);
            }
        }
    }
}
