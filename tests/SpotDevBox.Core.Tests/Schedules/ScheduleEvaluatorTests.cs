using Microsoft.Extensions.Time.Testing;
using SpotDevBox.Core.Schedules;

namespace SpotDevBox.Core.Tests.Schedules;

/// <summary>Berlin is UTC+1 (CET) until 2026-03-29 and from 2026-10-25, UTC+2 (CEST) in between.</summary>
[Trait("Category", "Calendar")]
public sealed class ScheduleEvaluatorTests
{
    private static readonly BoxSchedule Office = BoxSchedule.Parse("Europe/Berlin", "Mon-Fri 08:30-19:00");

    private static DateTimeOffset Utc(int month, int day, int hour, int minute = 0) => new(2026, month, day, hour, minute, 0, TimeSpan.Zero);

    [Fact]
    public void Evaluate_AtStart_UpBecauseStartIsInclusive()
    {
        // Mon 2026-06-01 08:30 CEST = 06:30 UTC; the window runs to 19:00 CEST = 17:00 UTC.
        var decision = ScheduleEvaluator.Evaluate(Office, [], Utc(6, 1, 6, 30));

        Assert.True(decision.Up);
        Assert.Equal(DecisionSource.Period, decision.Source);
        Assert.Equal("inside Mon-Fri 08:30-19:00 (Europe/Berlin)", decision.Reason);
        Assert.Equal(Utc(6, 1, 6, 30), decision.WindowStart);
        Assert.Equal(Utc(6, 1, 17), decision.WindowEnd);
        Assert.Equal(Utc(6, 1, 17), decision.NextChange);
    }

    [Fact]
    public void Evaluate_JustBeforeStart_Down()
    {
        var decision = ScheduleEvaluator.Evaluate(Office, [], Utc(6, 1, 6, 30).AddTicks(-1));

        Assert.False(decision.Up);
        Assert.Equal(DecisionSource.Outside, decision.Source);
        Assert.Equal("outside every period; next start Mon 08:30", decision.Reason);
        Assert.Null(decision.WindowStart);
        Assert.Equal(Utc(6, 1, 6, 30), decision.NextChange);
    }

    [Fact]
    public void Evaluate_AtStop_DownBecauseStopIsExclusive()
    {
        var decision = ScheduleEvaluator.Evaluate(Office, [], Utc(6, 1, 17));

        Assert.False(decision.Up);
        Assert.Equal("outside every period; next start Tue 08:30", decision.Reason);
        Assert.Equal(Utc(6, 2, 6, 30), decision.NextChange);
        Assert.True(ScheduleEvaluator.Evaluate(Office, [], Utc(6, 1, 17).AddTicks(-1)).Up);
    }

    [Fact]
    public void Evaluate_FridayEvening_NextStartMonday()
    {
        // Fri 2026-06-05 20:00 CEST.
        var decision = ScheduleEvaluator.Evaluate(Office, [], Utc(6, 5, 18));

        Assert.Equal("outside every period; next start Mon 08:30", decision.Reason);
        Assert.Equal(Utc(6, 8, 6, 30), decision.NextChange);
    }

    [Fact]
    public void Evaluate_PeriodCrossingMidnight_UpUntilStopNextDay()
    {
        var schedule = BoxSchedule.Parse("Europe/Berlin", "Fri 22:00-02:00");

        // Fri 2026-06-05 22:00 CEST = 20:00 UTC to Sat 02:00 CEST = Sat 00:00 UTC.
        Assert.False(ScheduleEvaluator.Evaluate(schedule, [], Utc(6, 5, 19, 59)).Up);
        var saturdayNight = ScheduleEvaluator.Evaluate(schedule, [], Utc(6, 5, 23, 30));
        Assert.True(saturdayNight.Up);
        Assert.Equal("inside Fri 22:00-02:00 (Europe/Berlin)", saturdayNight.Reason);
        Assert.Equal(Utc(6, 5, 20), saturdayNight.WindowStart);
        Assert.Equal(Utc(6, 6, 0), saturdayNight.WindowEnd);
        Assert.False(ScheduleEvaluator.Evaluate(schedule, [], Utc(6, 6, 0)).Up);
        // Thursday night is not Friday's period.
        Assert.False(ScheduleEvaluator.Evaluate(schedule, [], Utc(6, 4, 23)).Up);
    }

    [Fact]
    public void Evaluate_PeriodsThatTouch_OneWindowWithoutAStopBetween()
    {
        var schedule = BoxSchedule.Parse("Europe/Berlin", "Mon 20:00-24:00; Tue 00:00-06:00");

        // Mon 2026-06-01 23:00 CEST: one window from Mon 20:00 (18:00 UTC) to Tue 06:00 (04:00 UTC).
        var decision = ScheduleEvaluator.Evaluate(schedule, [], Utc(6, 1, 21));

        Assert.Equal(Utc(6, 1, 18), decision.WindowStart);
        Assert.Equal(Utc(6, 2, 4), decision.WindowEnd);
        Assert.Equal(Utc(6, 2, 4), decision.NextChange);
        Assert.True(ScheduleEvaluator.Evaluate(schedule, [], Utc(6, 1, 22)).Up);
    }

    [Fact]
    public void Evaluate_LastFridayRule_ReplacesTheWeekdayPeriodThatDay()
    {
        var schedule = BoxSchedule.Parse("Europe/Berlin", "Mon-Fri 08:30-19:00; last Fri 13:00-17:00");

        // 2026-01-30 is the last Friday of January (Fridays 2, 9, 16, 23, 30); CET, UTC+1.
        var morning = ScheduleEvaluator.Evaluate(schedule, [], Utc(1, 30, 8));
        Assert.False(morning.Up);
        Assert.Equal("outside every period; next start Fri 13:00", morning.Reason);
        var afternoon = ScheduleEvaluator.Evaluate(schedule, [], Utc(1, 30, 12));
        Assert.True(afternoon.Up);
        Assert.Equal("inside last Fri 13:00-17:00 (Europe/Berlin)", afternoon.Reason);
        Assert.False(ScheduleEvaluator.Evaluate(schedule, [], Utc(1, 30, 16)).Up);

        // 2026-01-23 is a Friday but not the last one: the weekday period applies.
        Assert.Equal("inside Mon-Fri 08:30-19:00 (Europe/Berlin)", ScheduleEvaluator.Evaluate(schedule, [], Utc(1, 23, 8)).Reason);
    }

    [Fact]
    public void Evaluate_FifthMonday_OnlyInMonthsWithFive()
    {
        var schedule = BoxSchedule.Parse("Europe/Berlin", "fifth Mon 09:00-12:00; fourth Mon 14:00-15:00; last Mon 16:00-17:00");

        // June 2026 has five Mondays (1, 8, 15, 22, 29): the 29th is both fifth and last, the 22nd fourth. CEST, UTC+2.
        Assert.True(ScheduleEvaluator.Evaluate(schedule, [], Utc(6, 29, 7)).Up);
        Assert.True(ScheduleEvaluator.Evaluate(schedule, [], Utc(6, 29, 14)).Up);
        Assert.True(ScheduleEvaluator.Evaluate(schedule, [], Utc(6, 22, 12)).Up);
        Assert.False(ScheduleEvaluator.Evaluate(schedule, [], Utc(6, 22, 14)).Up);

        // May 2026 has four (4, 11, 18, 25): no fifth, and the 25th is fourth and last.
        var may25 = ScheduleEvaluator.Evaluate(schedule, [], Utc(5, 25, 7));
        Assert.False(may25.Up);
        Assert.Equal("outside every period; next start Mon 14:00", may25.Reason);
        Assert.True(ScheduleEvaluator.Evaluate(schedule, [], Utc(5, 25, 12)).Up);
        Assert.True(ScheduleEvaluator.Evaluate(schedule, [], Utc(5, 25, 14)).Up);
    }

    [Fact]
    public void Evaluate_FirstMonday_OnlyTheFirst()
    {
        var schedule = BoxSchedule.Parse("Europe/Berlin", "first Mon 09:00-12:00");

        // 2026-06-01 is the first Monday of June; 2026-06-08 the second; the next first Monday is 2026-07-06.
        Assert.True(ScheduleEvaluator.Evaluate(schedule, [], Utc(6, 1, 7)).Up);
        var second = ScheduleEvaluator.Evaluate(schedule, [], Utc(6, 8, 7));
        Assert.False(second.Up);
        Assert.Equal("outside every period; next start Mon 2026-07-06 09:00", second.Reason);
        Assert.Equal(Utc(7, 6, 7), second.NextChange);
    }

    [Fact]
    public void Evaluate_OneOffDayOff_OverridesThePeriod()
    {
        var schedule = BoxSchedule.Parse("Europe/Berlin", "Mon-Fri 08:30-19:00; 2026-12-24 off; 2026-12-27 10:00-16:00");

        // Thu 2026-12-24 11:00 CET = 10:00 UTC; the next start is Fri 2026-12-25 08:30 CET.
        var christmasEve = ScheduleEvaluator.Evaluate(schedule, [], Utc(12, 24, 10));
        Assert.False(christmasEve.Up);
        Assert.Equal(DecisionSource.DayOff, christmasEve.Source);
        Assert.Equal("day off by '2026-12-24 off'; next start Fri 08:30", christmasEve.Reason);
        Assert.Equal(Utc(12, 25, 7, 30), christmasEve.NextChange);

        // Sun 2026-12-27 has a period of its own, 10:00-16:00 CET = 09:00-15:00 UTC.
        var sunday = ScheduleEvaluator.Evaluate(schedule, [], Utc(12, 27, 9));
        Assert.True(sunday.Up);
        Assert.Equal("inside 2026-12-27 10:00-16:00 (Europe/Berlin)", sunday.Reason);
        Assert.Equal(Utc(12, 27, 15), sunday.WindowEnd);
    }

    [Fact]
    public void Evaluate_OneOffDate_ReplacesTheWeekdayPeriodThatDay()
    {
        var schedule = BoxSchedule.Parse("Europe/Berlin", "Mon-Fri 08:30-19:00; 2026-12-23 10:00-12:00");

        // Wed 2026-12-23 09:00 CET: not up, the date's own period starts at 10:00.
        var decision = ScheduleEvaluator.Evaluate(schedule, [], Utc(12, 23, 8));
        Assert.False(decision.Up);
        Assert.Equal(Utc(12, 23, 9), decision.NextChange);
        Assert.False(ScheduleEvaluator.Evaluate(schedule, [], Utc(12, 23, 12)).Up);
    }

    [Fact]
    public void Evaluate_UpForThreeHours_EndsAfterThreeHours()
    {
        // Sat 2026-06-06 10:00 CEST = 08:00 UTC, no period on Saturdays.
        var clock = new FakeTimeProvider(Utc(6, 6, 8));
        var up = ScheduleOverride.UpFor(TimeSpan.FromHours(3), clock.GetUtcNow(), "alice");
        IReadOnlyList<ScheduleOverride> overrides = [up];

        var decision = ScheduleEvaluator.Evaluate(Office, overrides, clock.GetUtcNow());
        Assert.True(decision.Up);
        Assert.Equal(DecisionSource.Override, decision.Source);
        Assert.Equal("up until Sat 13:00 by override of alice", decision.Reason);
        Assert.Equal(Utc(6, 6, 11), decision.NextChange);
        Assert.Same(up, decision.Override);

        clock.Advance(TimeSpan.FromHours(3) - TimeSpan.FromMinutes(1));
        Assert.True(ScheduleEvaluator.Evaluate(Office, overrides, clock.GetUtcNow()).Up);

        clock.Advance(TimeSpan.FromMinutes(1));
        var after = ScheduleEvaluator.Evaluate(Office, overrides, clock.GetUtcNow());
        Assert.False(after.Up);
        Assert.Equal("outside every period; next start Mon 08:30", after.Reason);
    }

    [Fact]
    public void Evaluate_UpOverrideEndingInsideThePeriod_StaysUpWithTheSchedule()
    {
        // Mon 2026-06-08 07:00 CEST, up for 3 h: the override ends at 10:00, inside 08:30-19:00.
        var up = ScheduleOverride.UpFor(TimeSpan.FromHours(3), Utc(6, 8, 5), "bob");

        var decision = ScheduleEvaluator.Evaluate(Office, [up], Utc(6, 8, 5));
        Assert.Equal("up until Mon 10:00 by override of bob", decision.Reason);
        Assert.Equal(Utc(6, 8, 17), decision.NextChange);
        Assert.Null(decision.WindowStart);
        Assert.Equal(Utc(6, 8, 6, 30), ScheduleEvaluator.Evaluate(Office, [up], Utc(6, 8, 7)).WindowStart);
        Assert.Equal("inside Mon-Fri 08:30-19:00 (Europe/Berlin)", ScheduleEvaluator.Evaluate(Office, [up], Utc(6, 8, 8)).Reason);
    }

    [Fact]
    public void Evaluate_DownUntilMonday_DownUntilMondaysStartThenUp()
    {
        // Wed 2026-06-03 10:00 CEST = 08:00 UTC; the next Monday's start is 2026-06-08 08:30 CEST = 06:30 UTC.
        var clock = new FakeTimeProvider(Utc(6, 3, 8));
        var down = ScheduleOverride.DownUntil(Office, DayOfWeek.Monday, clock.GetUtcNow(), "alice");
        Assert.Equal(OverrideKind.Down, down.Kind);
        Assert.Equal(Utc(6, 3, 8), down.From);
        Assert.Equal(Utc(6, 8, 6, 30), down.Until);
        Assert.Equal("alice", down.SetBy);

        var decision = ScheduleEvaluator.Evaluate(Office, [down], clock.GetUtcNow());
        Assert.False(decision.Up);
        Assert.Equal("down until Mon 08:30 by override of alice", decision.Reason);
        Assert.Equal(Utc(6, 8, 6, 30), decision.NextChange);
        Assert.Equal(Utc(6, 3, 6, 30), decision.WindowStart);

        clock.Advance(Utc(6, 8, 6, 30) - clock.GetUtcNow() - TimeSpan.FromTicks(1));
        Assert.False(ScheduleEvaluator.Evaluate(Office, [down], clock.GetUtcNow()).Up);
        clock.Advance(TimeSpan.FromTicks(1));
        Assert.Equal("inside Mon-Fri 08:30-19:00 (Europe/Berlin)", ScheduleEvaluator.Evaluate(Office, [down], clock.GetUtcNow()).Reason);
    }

    [Fact]
    public void DownUntil_OnAMonday_MeansNextWeeksMonday()
    {
        // Mon 2026-06-01 07:00 CEST, before that day's start: "until monday" is 2026-06-08 08:30 CEST.
        var down = ScheduleOverride.DownUntil(Office, DayOfWeek.Monday, Utc(6, 1, 5), "alice");

        Assert.Equal(Utc(6, 8, 6, 30), down.Until);
    }

    [Fact]
    public void DownUntil_DayWithoutPeriod_MidnightOfThatDay()
    {
        // Until Saturday: 2026-06-06 00:00 CEST = 2026-06-05 22:00 UTC.
        var down = ScheduleOverride.DownUntil(Office, DayOfWeek.Saturday, Utc(6, 3, 8), "alice");

        Assert.Equal(Utc(6, 5, 22), down.Until);
    }

    [Fact]
    public void DownUntilNextStart_InsideWindow_SkipsTheRestOfIt()
    {
        // Tue 2026-06-02 15:00 CEST: down until Wed 08:30 CEST = 06:30 UTC.
        var down = ScheduleOverride.DownUntilNextStart(Office, Utc(6, 2, 13), "alice");

        Assert.NotNull(down);
        Assert.Equal(Utc(6, 3, 6, 30), down.Until);
        Assert.Equal("down until Wed 08:30 by override of alice", ScheduleEvaluator.Evaluate(Office, [down], Utc(6, 2, 13)).Reason);
    }

    [Fact]
    public void Evaluate_TwoOverrides_TheOneSetLastWins()
    {
        var down = ScheduleOverride.DownUntil(Office, DayOfWeek.Monday, Utc(6, 3, 8), "alice");
        var up = ScheduleOverride.UpFor(TimeSpan.FromHours(2), Utc(6, 4, 8), "bob");

        var decision = ScheduleEvaluator.Evaluate(Office, [up, down], Utc(6, 4, 9));
        Assert.True(decision.Up);
        Assert.Equal("up until Thu 12:00 by override of bob", decision.Reason);

        // When bob's ends, alice's is still in effect.
        var after = ScheduleEvaluator.Evaluate(Office, [up, down], Utc(6, 4, 10));
        Assert.False(after.Up);
        Assert.Equal("down until Mon 08:30 by override of alice", after.Reason);
    }

    [Fact]
    public void Override_EndingBeforeItStarts_Refused()
    {
        Assert.Throws<ArgumentException>(() => new ScheduleOverride(OverrideKind.Up, Utc(6, 1, 8), Utc(6, 1, 8), "alice"));
        Assert.Throws<ArgumentOutOfRangeException>(() => ScheduleOverride.UpFor(TimeSpan.Zero, Utc(6, 1, 8), "alice"));
    }

    [Fact]
    public void Evaluate_AlwaysUp_NoEdgeWithinAYear()
    {
        var schedule = BoxSchedule.Parse("UTC", "daily 00:00-24:00");

        var decision = ScheduleEvaluator.Evaluate(schedule, [], Utc(6, 1, 12));

        Assert.True(decision.Up);
        Assert.Null(decision.WindowStart);
        Assert.Null(decision.WindowEnd);
        Assert.Null(decision.NextChange);
    }
}
