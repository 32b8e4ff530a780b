using Microsoft.Extensions.Time.Testing;
using SpotDevBox.Core.Schedules;

namespace SpotDevBox.Core.Tests.Schedules;

/// <summary>Mon 2026-06-08 in Berlin (CEST, UTC+2): the 08:30 start is 06:30 UTC, the 19:00 stop 17:00 UTC.</summary>
[Trait("Category", "Calendar")]
public sealed class MissedTransitionsTests
{
    private static readonly BoxSchedule Office = BoxSchedule.Parse("Europe/Berlin", "Mon-Fri 08:30-19:00");

    private static DateTimeOffset Utc(int month, int day, int hour, int minute = 0) => new(2026, month, day, hour, minute, 0, TimeSpan.Zero);

    /// <summary>The controller runs at <paramref name="lastRunUtc"/>, is down for <paramref name="downFor"/>, and asks on coming back.</summary>
    private static (DateTimeOffset LastRun, DateTimeOffset Now) Downtime(DateTimeOffset lastRunUtc, TimeSpan downFor)
    {
        var clock = new FakeTimeProvider(lastRunUtc);
        var lastRun = clock.GetUtcNow();
        clock.Advance(downFor);
        return (lastRun, clock.GetUtcNow());
    }

    [Fact]
    public void MissedStart_BackInsideTheWindow_StartNow()
    {
        // Last ran 08:00, back at 09:10.
        var (lastRun, now) = Downtime(Utc(6, 8, 6), TimeSpan.FromMinutes(70));

        var result = MissedTransitions.MissedStart(Office, [], lastRun, now, MissedStartPolicy.Default);

        Assert.Equal(CatchUpAction.StartNow, result.Action);
        Assert.Equal(Utc(6, 8, 6, 30), result.MissedAt);
        Assert.Equal("controller was down at Mon 08:30 (start); it is Mon 09:10, inside Mon-Fri 08:30-19:00 (Europe/Berlin): start now", result.Reason);
    }

    [Fact]
    public void MissedStart_BackAfterTheWindow_Skipped()
    {
        // Last ran 08:00, back at 19:10.
        var (lastRun, now) = Downtime(Utc(6, 8, 6), TimeSpan.FromMinutes(670));

        var result = MissedTransitions.MissedStart(Office, [], lastRun, now, MissedStartPolicy.Default);

        Assert.Equal(CatchUpAction.Skip, result.Action);
        Assert.Equal(Utc(6, 8, 6, 30), result.MissedAt);
        Assert.Equal("controller was down at Mon 08:30 (start); it is Mon 19:10, outside every period; next start Tue 08:30: the missed start is skipped", result.Reason);
    }

    [Fact]
    public void MissedStart_EnforcementOff_Skipped()
    {
        var (lastRun, now) = Downtime(Utc(6, 8, 6), TimeSpan.FromMinutes(70));

        var result = MissedTransitions.MissedStart(Office, [], lastRun, now, new MissedStartPolicy(false, null));

        Assert.Equal(CatchUpAction.Skip, result.Action);
        Assert.EndsWith(": missed starts are not enforced (EnforceMissedStarts is false)", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void MissedStart_BeyondGrace_Skipped()
    {
        // Back at 10:31, 2 h 01 min after the 08:30 start.
        var (lastRun, now) = Downtime(Utc(6, 8, 6), TimeSpan.FromMinutes(151));

        var result = MissedTransitions.MissedStart(Office, [], lastRun, now, new MissedStartPolicy(true, TimeSpan.FromHours(2)));

        Assert.Equal(CatchUpAction.Skip, result.Action);
        Assert.Equal("controller was down at Mon 08:30 (start); it is Mon 10:31, inside Mon-Fri 08:30-19:00 (Europe/Berlin): 2h01m after the start, beyond MissedStartGrace 02:00:00", result.Reason);
    }

    [Fact]
    public void MissedStart_ExactlyAtTheEndOfGrace_StartNow()
    {
        var (lastRun, now) = Downtime(Utc(6, 8, 6), TimeSpan.FromMinutes(150));

        Assert.Equal(CatchUpAction.StartNow, MissedTransitions.MissedStart(Office, [], lastRun, now, new MissedStartPolicy(true, TimeSpan.FromHours(2))).Action);
    }

    [Fact]
    public void MissedStart_ControllerRanAfterTheStart_NothingMissed()
    {
        // Last ran 08:31, so it saw the start; back at 09:10.
        var (lastRun, now) = Downtime(Utc(6, 8, 6, 31), TimeSpan.FromMinutes(39));

        var result = MissedTransitions.MissedStart(Office, [], lastRun, now, MissedStartPolicy.Default);

        Assert.Equal(CatchUpAction.None, result.Action);
        Assert.Null(result.MissedAt);
        Assert.Equal("no start since the controller last ran at Mon 08:31; inside Mon-Fri 08:30-19:00 (Europe/Berlin)", result.Reason);
    }

    [Fact]
    public void MissedStart_DownOverAWeekend_TheLatestStartCounts()
    {
        // Last ran Fri 2026-06-05 12:00 CEST, back Mon 2026-06-08 09:00 CEST.
        var (lastRun, now) = Downtime(Utc(6, 5, 10), TimeSpan.FromHours(69));

        var result = MissedTransitions.MissedStart(Office, [], lastRun, now, new MissedStartPolicy(true, TimeSpan.FromHours(1)));

        Assert.Equal(CatchUpAction.StartNow, result.Action);
        Assert.Equal(Utc(6, 8, 6, 30), result.MissedAt);
    }

    [Fact]
    public void MissedStart_NeverRanBefore_TheCurrentWindowsStartCounts()
    {
        var result = MissedTransitions.MissedStart(Office, [], null, Utc(6, 8, 7, 10), MissedStartPolicy.Default);

        Assert.Equal(CatchUpAction.StartNow, result.Action);
        Assert.Equal(Utc(6, 8, 6, 30), result.MissedAt);
        Assert.Equal("no record of the controller running at Mon 08:30 (start); it is Mon 09:10, inside Mon-Fri 08:30-19:00 (Europe/Berlin): start now", result.Reason);
    }

    [Fact]
    public void MissedStart_StartInTheSpringGap_MissedAtTheFirstValidTime()
    {
        // New York 2026-03-08: the 02:30 start fired at 03:00 EDT = 07:00 UTC. Last ran Sat 12:00 EST, back 03:40 EDT.
        var schedule = BoxSchedule.Parse("America/New_York", "Sun 02:30-10:00");

        var result = MissedTransitions.MissedStart(schedule, [], Utc(3, 7, 17), Utc(3, 8, 7, 40), MissedStartPolicy.Default);

        Assert.Equal(CatchUpAction.StartNow, result.Action);
        Assert.Equal(Utc(3, 8, 7), result.MissedAt);
        Assert.StartsWith("controller was down at Sun 03:00 (start); it is Sun 03:40,", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void MissedStart_MissedUpOverride_CaughtUpLikeAStart()
    {
        // Sat 2026-06-06: alice's up --for 3h from 10:00 CEST; the controller was down 09:00-10:20.
        var up = ScheduleOverride.UpFor(TimeSpan.FromHours(3), Utc(6, 6, 8), "alice");

        var result = MissedTransitions.MissedStart(Office, [up], Utc(6, 6, 7), Utc(6, 6, 8, 20), MissedStartPolicy.Default);

        Assert.Equal(CatchUpAction.StartNow, result.Action);
        Assert.Equal("controller was down at Sat 10:00 (start); it is Sat 10:20, up until Sat 13:00 by override of alice: start now", result.Reason);
    }

    [Fact]
    public void MissedStop_BackOutsideTheWindow_StopNow()
    {
        // Last ran 18:00, back at 20:15.
        var (lastRun, now) = Downtime(Utc(6, 8, 16), TimeSpan.FromMinutes(135));

        var result = MissedTransitions.MissedStop(Office, [], lastRun, now);

        Assert.Equal(CatchUpAction.StopNow, result.Action);
        Assert.Equal(Utc(6, 8, 17), result.MissedAt);
        Assert.Equal("controller was down at Mon 19:00 (stop); it is Mon 20:15, outside every period; next start Tue 08:30: stop now", result.Reason);
    }

    [Fact]
    public void MissedStop_BackInsideTheNextWindow_StaysUp()
    {
        // Last ran Mon 18:00, back Tue 09:00: the Monday stop passed, but the box belongs up again.
        var (lastRun, now) = Downtime(Utc(6, 8, 16), TimeSpan.FromHours(15));

        var result = MissedTransitions.MissedStop(Office, [], lastRun, now);

        Assert.Equal(CatchUpAction.None, result.Action);
        Assert.Equal(Utc(6, 8, 17), result.MissedAt);
        Assert.EndsWith("inside Mon-Fri 08:30-19:00 (Europe/Berlin): stays up", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void MissedStop_ControllerRanThroughTheStop_NothingMissed()
    {
        var (lastRun, now) = Downtime(Utc(6, 8, 17, 5), TimeSpan.FromMinutes(30));

        Assert.Equal(CatchUpAction.None, MissedTransitions.MissedStop(Office, [], lastRun, now).Action);
    }

    [Fact]
    public void MissedStop_NeverRanBeforeAndOutside_StopNow()
    {
        var result = MissedTransitions.MissedStop(Office, [], null, Utc(6, 6, 12));

        Assert.Equal(CatchUpAction.StopNow, result.Action);
        Assert.Equal("no record of the controller running before; it is Sat 14:00, outside every period; next start Mon 08:30: stop now", result.Reason);
    }
}
