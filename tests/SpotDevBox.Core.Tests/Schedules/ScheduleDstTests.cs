using SpotDevBox.Core.Schedules;

namespace SpotDevBox.Core.Tests.Schedules;

/// <summary>
/// 2026 changes: New York 2026-03-08 02:00 EST (UTC-5) -> 03:00 EDT (UTC-4) and 2026-11-01 02:00 EDT -> 01:00 EST;
/// Berlin 2026-03-29 02:00 CET (UTC+1) -> 03:00 CEST (UTC+2) and 2026-10-25 03:00 CEST -> 02:00 CET;
/// Sydney 2026-04-05 03:00 AEDT (UTC+11) -> 02:00 AEST (UTC+10) and 2026-10-04 02:00 AEST -> 03:00 AEDT.
/// </summary>
[Trait("Category", "Calendar")]
public sealed class ScheduleDstTests
{
    private static DateTimeOffset Utc(int month, int day, int hour, int minute = 0) => new(2026, month, day, hour, minute, 0, TimeSpan.Zero);

    private static List<ScheduleTransition> Transitions(BoxSchedule schedule, DateTimeOffset from, DateTimeOffset to) =>
        [.. ScheduleEvaluator.Transitions(schedule, [], from, to)];

    private static void AssertUpExactlyFrom(BoxSchedule schedule, DateTimeOffset start, DateTimeOffset stop)
    {
        Assert.False(ScheduleEvaluator.Evaluate(schedule, [], start.AddTicks(-1)).Up);
        Assert.True(ScheduleEvaluator.Evaluate(schedule, [], start).Up);
        Assert.True(ScheduleEvaluator.Evaluate(schedule, [], stop.AddTicks(-1)).Up);
        Assert.False(ScheduleEvaluator.Evaluate(schedule, [], stop).Up);
        Assert.Collection(
            Transitions(schedule, start.AddDays(-1), stop.AddDays(1)).Where(t => t.At >= start.AddHours(-12) && t.At <= stop.AddHours(12)),
            t => Assert.Equal((start, true), (t.At, t.Up)),
            t => Assert.Equal((stop, false), (t.At, t.Up)));
    }

    [Fact]
    public void NewYork_StartInSpringGap_FiresAtThreeEdt()
    {
        // 02:30 does not exist on 2026-03-08 in New York: the start fires at 03:00 EDT = 07:00 UTC; 10:00 EDT = 14:00 UTC.
        var schedule = BoxSchedule.Parse("America/New_York", "Sun 02:30-10:00");

        AssertUpExactlyFrom(schedule, Utc(3, 8, 7), Utc(3, 8, 14));
        var start = Transitions(schedule, Utc(3, 8, 0), Utc(3, 8, 12))[0];
        Assert.Equal("start of Sun 02:30-10:00; 02:30 does not exist on 2026-03-08 (clocks go forward), so at 03:00", start.Reason);
        Assert.Equal(new DateTimeOffset(2026, 3, 8, 3, 0, 0, TimeSpan.FromHours(-4)), start.LocalTime);
    }

    [Fact]
    public void NewYork_StopInSpringGap_StopsAtThreeEdtNotLater()
    {
        // Sat 2026-03-07 20:00 EST = Sun 01:00 UTC; the 02:30 stop falls in the gap: 03:00 EDT = 07:00 UTC.
        var schedule = BoxSchedule.Parse("America/New_York", "Sat 20:00-02:30");

        AssertUpExactlyFrom(schedule, Utc(3, 8, 1), Utc(3, 8, 7));
    }

    [Fact]
    public void NewYork_StartInRepeatedHour_FiresOnceAtTheFirst()
    {
        // 01:30 happens twice on 2026-11-01: first EDT (05:30 UTC), then EST (06:30 UTC). 05:00 EST = 10:00 UTC.
        var schedule = BoxSchedule.Parse("America/New_York", "Sun 01:30-05:00");

        AssertUpExactlyFrom(schedule, Utc(11, 1, 5, 30), Utc(11, 1, 10));
        Assert.True(ScheduleEvaluator.Evaluate(schedule, [], Utc(11, 1, 6, 30)).Up);
        var start = Assert.Single(Transitions(schedule, Utc(11, 1, 0), Utc(11, 1, 9)));
        Assert.Equal("start of Sun 01:30-05:00; the first of the two 01:30 on 2026-11-01 (clocks go back)", start.Reason);
    }

    [Fact]
    public void NewYork_StopInRepeatedHour_StopsAtTheFirstNotAnHourLate()
    {
        // Sat 2026-10-31 22:00 EDT = Sun 02:00 UTC; the 01:30 stop is the first one, EDT: 05:30 UTC.
        var schedule = BoxSchedule.Parse("America/New_York", "Sat 22:00-01:30");

        AssertUpExactlyFrom(schedule, Utc(11, 1, 2), Utc(11, 1, 5, 30));
        Assert.False(ScheduleEvaluator.Evaluate(schedule, [], Utc(11, 1, 6, 30)).Up);
    }

    [Fact]
    public void NewYork_PeriodWhollyInsideTheGap_DoesNotHappenThatDay()
    {
        var schedule = BoxSchedule.Parse("America/New_York", "Sun 02:10-02:50");

        Assert.Empty(Transitions(schedule, Utc(3, 7, 12), Utc(3, 9, 0)));
        Assert.False(ScheduleEvaluator.Evaluate(schedule, [], Utc(3, 8, 7)).Up);
        // A week later it is an ordinary period: 02:10 EDT = 06:10 UTC.
        Assert.Equal(Utc(3, 15, 6, 10), ScheduleEvaluator.Evaluate(schedule, [], Utc(3, 8, 7)).NextChange);
    }

    [Fact]
    public void Berlin_StartInSpringGap_FiresAtThreeCest()
    {
        // 02:30 does not exist on 2026-03-29: 03:00 CEST = 01:00 UTC; 12:00 CEST = 10:00 UTC.
        AssertUpExactlyFrom(BoxSchedule.Parse("Europe/Berlin", "Sun 02:30-12:00"), Utc(3, 29, 1), Utc(3, 29, 10));
    }

    [Fact]
    public void Berlin_StopInSpringGap_StopsAtThreeCest()
    {
        // Sat 2026-03-28 22:00 CET = 21:00 UTC; the 02:30 stop: 03:00 CEST = 01:00 UTC.
        AssertUpExactlyFrom(BoxSchedule.Parse("Europe/Berlin", "Sat 22:00-02:30"), Utc(3, 28, 21), Utc(3, 29, 1));
    }

    [Fact]
    public void Berlin_StartInRepeatedHour_FiresOnceAtTheFirst()
    {
        // 02:30 on 2026-10-25: first CEST (00:30 UTC), then CET (01:30 UTC). 12:00 CET = 11:00 UTC.
        var schedule = BoxSchedule.Parse("Europe/Berlin", "Sun 02:30-12:00");

        AssertUpExactlyFrom(schedule, Utc(10, 25, 0, 30), Utc(10, 25, 11));
        Assert.Single(Transitions(schedule, Utc(10, 24, 12), Utc(10, 25, 10)));
    }

    [Fact]
    public void Berlin_StopInRepeatedHour_StopsAtTheFirst()
    {
        // Sat 2026-10-24 22:00 CEST = 20:00 UTC; the 02:30 stop is the first, CEST: 00:30 UTC.
        var schedule = BoxSchedule.Parse("Europe/Berlin", "Sat 22:00-02:30");

        AssertUpExactlyFrom(schedule, Utc(10, 24, 20), Utc(10, 25, 0, 30));
        Assert.False(ScheduleEvaluator.Evaluate(schedule, [], Utc(10, 25, 1, 30)).Up);
    }

    [Fact]
    public void Berlin_DailyPeriodAcrossTheChange_SameLocalTimesBothDays()
    {
        // 08:00-19:00 on Sat 2026-10-24 (CEST: 06:00-17:00 UTC) and Sun 2026-10-25 (CET: 07:00-18:00 UTC).
        var schedule = BoxSchedule.Parse("Europe/Berlin", "daily 08:00-19:00");

        Assert.Equal(
            [(Utc(10, 24, 6), true), (Utc(10, 24, 17), false), (Utc(10, 25, 7), true), (Utc(10, 25, 18), false)],
            Transitions(schedule, Utc(10, 24, 0), Utc(10, 25, 23)).Select(t => (t.At, t.Up)));
    }

    [Fact]
    public void Sydney_StartInRepeatedHour_FiresOnceAtTheFirst()
    {
        // DST ends 2026-04-05: 02:30 first AEDT (Sat 2026-04-04 15:30 UTC), then AEST (16:30 UTC). 09:00 AEST = 23:00 UTC.
        var schedule = BoxSchedule.Parse("Australia/Sydney", "Sun 02:30-09:00");

        AssertUpExactlyFrom(schedule, Utc(4, 4, 15, 30), Utc(4, 4, 23));
        Assert.Single(Transitions(schedule, Utc(4, 4, 0), Utc(4, 4, 22)));
    }

    [Fact]
    public void Sydney_StopInRepeatedHour_StopsAtTheFirst()
    {
        // Sat 2026-04-04 22:00 AEDT = 11:00 UTC; the 02:30 stop is the first, AEDT: 15:30 UTC.
        var schedule = BoxSchedule.Parse("Australia/Sydney", "Sat 22:00-02:30");

        AssertUpExactlyFrom(schedule, Utc(4, 4, 11), Utc(4, 4, 15, 30));
        Assert.False(ScheduleEvaluator.Evaluate(schedule, [], Utc(4, 4, 16, 30)).Up);
    }

    [Fact]
    public void Sydney_StartInSpringGap_FiresAtThreeAedt()
    {
        // DST starts 2026-10-04: 02:30 does not exist, 03:00 AEDT = Sat 2026-10-03 16:00 UTC; 09:00 AEDT = 22:00 UTC.
        AssertUpExactlyFrom(BoxSchedule.Parse("Australia/Sydney", "Sun 02:30-09:00"), Utc(10, 3, 16), Utc(10, 3, 22));
    }

    [Fact]
    public void Sydney_StopInSpringGap_StopsAtThreeAedt()
    {
        // Sat 2026-10-03 22:00 AEST = 12:00 UTC; the 02:30 stop: 03:00 AEDT = 16:00 UTC.
        AssertUpExactlyFrom(BoxSchedule.Parse("Australia/Sydney", "Sat 22:00-02:30"), Utc(10, 3, 12), Utc(10, 3, 16));
    }
}
