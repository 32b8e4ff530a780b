using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using SpotDevBox.Core.Idle;

namespace SpotDevBox.Core.Tests.Idle;

public sealed class StopPlannerTests
{
    private static readonly DateTimeOffset T0 = new(2025, 6, 2, 12, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(T0);
    private readonly FakeSignal _activity = new("sessions");
    private readonly RecordingStopActions _actions;

    public StopPlannerTests() => _actions = new RecordingStopActions(_time);

    private StopPlanner Planner(IdleOptions? options = null) => new(
        new IdleMonitor([_activity], _time, NullLogger<IdleMonitor>.Instance),
        _actions,
        Options.Create(options ?? new IdleOptions()),
        _time,
        NullLogger<StopPlanner>.Instance);

    /// <summary>Ticks at minutes from..to inclusive (minutes since T0), one a minute, as the agent does.</summary>
    private async Task TickMinutesAsync(StopPlanner planner, int from, int to, Func<int, bool>? activeAt = null)
    {
        for (var minute = from; minute <= to; minute++)
        {
            _time.SetUtcNow(T0.AddMinutes(minute));
            _activity.ActiveBecause = activeAt?.Invoke(minute) == true ? "make (pid 4242) used 38 s CPU in the last minute" : null;
            await planner.TickAsync(default);
        }
    }

    [Fact]
    public async Task TickAsync_IdleThroughTimeout_WarnsAtTenAndTwoThenBacksUpThenPowersOff()
    {
        var planner = Planner();

        await TickMinutesAsync(planner, 0, 40);

        Assert.Equal(
            [
                "20 warn Countdown Idle 10 min (postpone: spotdevbox keepalive 1h)",
                "28 warn Countdown Idle 2 min (postpone: spotdevbox keepalive 1h)",
                "30 backup Idle",
                "30 power-off Idle",
            ],
            _actions.Calls);
        Assert.Equal("powering off (idle)", planner.Status.Describe());
    }

    [Fact]
    public async Task TickAsync_ActivityDuringCountdown_CancelsItAndStartsOver()
    {
        var planner = Planner();

        // Idle from 0, warned at 20, someone types at 25; idle again from 26: warnings at 46 and 54, stop at 56.
        await TickMinutesAsync(planner, 0, 60, activeAt: minute => minute == 25);

        Assert.Equal(
            [
                "20 warn Countdown Idle 10 min (postpone: spotdevbox keepalive 1h)",
                "46 warn Countdown Idle 10 min (postpone: spotdevbox keepalive 1h)",
                "54 warn Countdown Idle 2 min (postpone: spotdevbox keepalive 1h)",
                "56 backup Idle",
                "56 power-off Idle",
            ],
            _actions.Calls);
    }

    [Fact]
    public async Task TickAsync_FinalBackupFails_StaysUpAndRetriesUntilItCommits()
    {
        var planner = Planner();
        _actions.BackupResults.Enqueue(false);
        _actions.BackupResults.Enqueue(false);
        _actions.BackupResults.Enqueue(true);

        await TickMinutesAsync(planner, 0, 34);
        var held = planner.Status.Describe();
        await TickMinutesAsync(planner, 35, 50);

        Assert.Equal(
            [
                "20 warn Countdown Idle 10 min (postpone: spotdevbox keepalive 1h)",
                "28 warn Countdown Idle 2 min (postpone: spotdevbox keepalive 1h)",
                "30 backup Idle",
                "30 warn BackupFailed Idle 5 min",
                "35 backup Idle",
                "35 warn BackupFailed Idle 5 min",
                "40 backup Idle",
                "40 power-off Idle",
            ],
            _actions.Calls);
        Assert.Equal("stop held (idle): final backup failed 1 time (the snapshot did not commit); trying again in 1 min", held);
    }

    [Fact]
    public async Task TickAsync_FinalBackupThrows_TreatedAsNotCommitted()
    {
        var planner = Planner();
        _actions.BackupThrows = new IOException("bucket unreachable");

        await TickMinutesAsync(planner, 0, 31);

        Assert.DoesNotContain(_actions.Calls, c => c.Contains("power-off", StringComparison.Ordinal));
        Assert.Equal("30 warn BackupFailed Idle 5 min", _actions.Calls[^1]);
        Assert.Equal("stop held (idle): final backup failed 1 time (bucket unreachable); trying again in 4 min", planner.Status.Describe());
    }

    [Fact]
    public async Task TickAsync_ActivityWhileBackupFailed_StopAbandoned()
    {
        var planner = Planner();
        _actions.BackupResults.Enqueue(false);

        // The stop at 30 fails; someone works at 32-33, so the retry at 35 does not happen; idle again from 34.
        await TickMinutesAsync(planner, 0, 40, activeAt: minute => minute is 32 or 33);

        Assert.Equal(["30 backup Idle"], _actions.Calls.Where(c => c.Contains("backup", StringComparison.Ordinal) && !c.Contains("Failed", StringComparison.Ordinal)));
        Assert.Equal("idle for 6 min, stopping in 24 min", planner.Status.Describe());
    }

    [Fact]
    public async Task TickAsync_AfterPowerOff_NeverPowersOffAgain()
    {
        var planner = Planner();

        await TickMinutesAsync(planner, 0, 30);
        await TickMinutesAsync(planner, 31, 200);

        Assert.Single(_actions.Calls, c => c.Contains("power-off", StringComparison.Ordinal));
        Assert.Single(_actions.Calls, c => c.Contains("backup", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TickAsync_PowerOffThrows_AskedAgainWithoutAnotherBackup()
    {
        var planner = Planner();
        _actions.PowerOffThrows = new InvalidOperationException("systemctl poweroff failed");

        await TickMinutesAsync(planner, 0, 30);
        _actions.PowerOffThrows = null;
        await TickMinutesAsync(planner, 31, 35);

        Assert.Equal(["30 backup Idle", "30 power-off Idle", "31 power-off Idle"], _actions.Calls.Where(c => !c.Contains("warn", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task TickAsync_ScheduledStopWhileBusy_PostponedUpToMaxOverrunThenForced()
    {
        var planner = Planner();
        planner.RequestStop(T0.AddMinutes(60), StopReason.Schedule);

        // Busy the whole time: warned before 13:00, postponed, forced at 15:00 (2 h overrun) after warnings.
        await TickMinutesAsync(planner, 0, 200, activeAt: _ => true);

        Assert.Equal(
            [
                "50 warn Countdown Schedule 10 min (postpone: spotdevbox keepalive 1h)",
                "58 warn Countdown Schedule 2 min (postpone: spotdevbox keepalive 1h)",
                "170 warn Countdown Schedule 10 min",
                "178 warn Countdown Schedule 2 min",
                "180 backup Schedule",
                "180 power-off Schedule",
            ],
            _actions.Calls);
    }

    [Fact]
    public async Task TickAsync_ScheduledStopPostponedThenIdle_StopsAfterTheLongestWarning()
    {
        var planner = Planner();
        planner.RequestStop(T0.AddMinutes(60), StopReason.Schedule);

        // Busy until minute 90; idle from 91: warned at once (10 min), at 99 (2 min), stopped at 101.
        await TickMinutesAsync(planner, 0, 120, activeAt: minute => minute <= 90);

        Assert.Equal(
            [
                "50 warn Countdown Schedule 10 min (postpone: spotdevbox keepalive 1h)",
                "58 warn Countdown Schedule 2 min (postpone: spotdevbox keepalive 1h)",
                "91 warn Countdown Schedule 10 min (postpone: spotdevbox keepalive 1h)",
                "99 warn Countdown Schedule 2 min (postpone: spotdevbox keepalive 1h)",
                "101 backup Schedule",
                "101 power-off Schedule",
            ],
            _actions.Calls);
    }

    [Fact]
    public async Task TickAsync_ScheduledStopOnIdleBox_StopsAtTheStopTime()
    {
        var planner = Planner(new IdleOptions { IdleTimeout = TimeSpan.FromHours(3) });
        planner.RequestStop(T0.AddMinutes(60), StopReason.Schedule);

        await TickMinutesAsync(planner, 0, 70);

        Assert.Equal(
            [
                "50 warn Countdown Schedule 10 min (postpone: spotdevbox keepalive 1h)",
                "58 warn Countdown Schedule 2 min (postpone: spotdevbox keepalive 1h)",
                "60 backup Schedule",
                "60 power-off Schedule",
            ],
            _actions.Calls);
    }

    [Fact]
    public async Task TickAsync_ScheduledStopAlreadyPast_StillGivesTheShortestWarningLead()
    {
        var planner = Planner(new IdleOptions { IdleTimeout = TimeSpan.FromHours(3) });

        await TickMinutesAsync(planner, 0, 30);
        planner.RequestStop(T0.AddMinutes(25), StopReason.Schedule);
        await TickMinutesAsync(planner, 31, 40);

        Assert.Equal(
            [
                "31 warn Countdown Schedule 2 min (postpone: spotdevbox keepalive 1h)",
                "33 backup Schedule",
                "33 power-off Schedule",
            ],
            _actions.Calls);
    }

    [Fact]
    public async Task TickAsync_MaxSessionLength_HardStopDespiteActivity()
    {
        var planner = Planner(new IdleOptions { MaxSessionLength = TimeSpan.FromHours(2) });

        await TickMinutesAsync(planner, 0, 130, activeAt: _ => true);

        Assert.Equal(
            [
                "110 warn Countdown MaxSessionLength 10 min",
                "118 warn Countdown MaxSessionLength 2 min",
                "120 backup MaxSessionLength",
                "120 power-off MaxSessionLength",
            ],
            _actions.Calls);
    }

    [Fact]
    public async Task TickAsync_MaxSessionLength_CountsFromTheSessionStart()
    {
        var planner = Planner(new IdleOptions { MaxSessionLength = TimeSpan.FromHours(2) });
        planner.SessionStart = T0.AddMinutes(-100);

        await TickMinutesAsync(planner, 0, 30, activeAt: _ => true);

        Assert.Equal("20 power-off MaxSessionLength", _actions.Calls[^1]);
    }

    [Fact]
    public async Task TickAsync_ManualStop_WarnsOnceThenStopsPromptlyDespiteActivity()
    {
        var planner = Planner();
        await TickMinutesAsync(planner, 0, 5, activeAt: _ => true);

        planner.RequestStop(T0.AddMinutes(6), StopReason.Manual);
        await TickMinutesAsync(planner, 6, 10, activeAt: _ => true);

        Assert.Equal(["6 warn Countdown Manual 0 min", "6 backup Manual", "6 power-off Manual"], _actions.Calls);
    }

    [Fact]
    public async Task TickAsync_UndeliverableWarning_DoesNotHoldTheStop()
    {
        var planner = Planner();
        _actions.WarnThrows = new IOException("wall: not found");

        await TickMinutesAsync(planner, 0, 30);

        Assert.Equal("30 power-off Idle", _actions.Calls[^1]);
    }

    [Fact]
    public async Task Status_IdleFor23Minutes_SaysWhenItStops()
    {
        var planner = Planner();

        await TickMinutesAsync(planner, 0, 23);

        Assert.Equal("idle for 23 min, stopping in 7 min", planner.Status.Describe());
        Assert.Equal(new IdleStatus(TimeSpan.FromMinutes(23), TimeSpan.FromMinutes(7), StopReason.Idle), planner.Status);
    }

    [Fact]
    public async Task Status_Awake_SaysWhy()
    {
        var planner = Planner();

        await TickMinutesAsync(planner, 0, 3, activeAt: _ => true);

        Assert.Equal("awake because make (pid 4242) used 38 s CPU in the last minute", planner.Status.Describe());
    }

    [Fact]
    public async Task Status_ScheduledStopPostponed_SaysWhenItIsForced()
    {
        var planner = Planner();
        planner.RequestStop(T0.AddMinutes(60), StopReason.Schedule);

        await TickMinutesAsync(planner, 0, 68, activeAt: _ => true);

        Assert.Equal("awake because make (pid 4242) used 38 s CPU in the last minute; scheduled stop overdue, forced in 1 h 52 min", planner.Status.Describe());
    }

    [Fact]
    public void Status_BeforeFirstTick_Starting()
    {
        Assert.Equal("starting: no activity sampled yet", Planner().Status.Describe());
    }

    [Fact]
    public void RequestStop_IdleReason_Refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Planner().RequestStop(T0, StopReason.Idle));
    }

    [Fact]
    public async Task CancelScheduledStop_BeforeTheStopTime_NoStop()
    {
        var planner = Planner(new IdleOptions { IdleTimeout = TimeSpan.FromHours(3) });
        planner.RequestStop(T0.AddMinutes(60), StopReason.Schedule);

        await TickMinutesAsync(planner, 0, 55);
        planner.CancelScheduledStop();
        await TickMinutesAsync(planner, 56, 90);

        Assert.Equal(["50 warn Countdown Schedule 10 min (postpone: spotdevbox keepalive 1h)"], _actions.Calls);
        Assert.Null(planner.ScheduledStop);
    }
}

/// <summary>Records each call as "minute action reason", in order; backups succeed unless told otherwise.</summary>
public sealed class RecordingStopActions(TimeProvider time) : IStopActions
{
    private static readonly DateTimeOffset T0 = new(2025, 6, 2, 12, 0, 0, TimeSpan.Zero);

    public List<string> Calls { get; } = [];

    public Queue<bool> BackupResults { get; } = new();

    public Exception? BackupThrows { get; set; }

    public Exception? PowerOffThrows { get; set; }

    public Exception? WarnThrows { get; set; }

    public List<StopWarning> Warnings { get; } = [];

    private string Minute => ((int)(time.GetUtcNow() - T0).TotalMinutes).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public Task WarnUsersAsync(StopWarning warning, CancellationToken cancellationToken)
    {
        Warnings.Add(warning);
        Calls.Add($"{Minute} warn {warning.Kind} {warning.Reason} {warning.MinutesLeft} min{(warning.PostponeCommand is { } c ? $" (postpone: {c})" : "")}");
        return WarnThrows is { } e ? Task.FromException(e) : Task.CompletedTask;
    }

    public Task<bool> FinalBackupAsync(StopReason reason, CancellationToken cancellationToken)
    {
        Calls.Add($"{Minute} backup {reason}");
        return BackupThrows is { } e ? Task.FromException<bool>(e) : Task.FromResult(!BackupResults.TryDequeue(out var result) || result);
    }

    public Task PowerOffAsync(StopReason reason, CancellationToken cancellationToken)
    {
        Calls.Add($"{Minute} power-off {reason}");
        return PowerOffThrows is { } e ? Task.FromException(e) : Task.CompletedTask;
    }
}
