using Microsoft.Extensions.Options;
using SpotDevBox.Core.Interruption;

namespace SpotDevBox.Core.Tests.Interruption;

/// <summary>
/// The watcher on a virtual clock: every loop sleeps on the clock, and the test jumps from one wake-up
/// to the next, so two hours of polling take milliseconds and every interval is exact.
/// </summary>
public sealed class InterruptionWatcherTests
{
    private static readonly DateTimeOffset Start = new(2024, 5, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly InstanceAction NoticeA = new(InstanceActionKind.Terminate, new DateTimeOffset(2024, 5, 1, 12, 2, 0, TimeSpan.Zero));
    private static readonly InstanceAction NoticeB = new(InstanceActionKind.Terminate, new DateTimeOffset(2024, 5, 1, 12, 4, 0, TimeSpan.Zero));

    private readonly VirtualClock _clock = new(Start);
    private readonly RecordingHandler _handler = new();
    private readonly CapturingLogger _logger = new();
    private readonly FakeMetadataClient _client;

    public InterruptionWatcherTests()
    {
        _client = new FakeMetadataClient(_clock);
    }

    [Fact]
    public async Task RunAsync_SameNoticeOnEveryPoll_HandlerCalledOnce()
    {
        _client.InstanceAction = _ => MetadataReading.Present(NoticeA);

        await RunAsync(TimeSpan.FromMinutes(2));

        // Reads at 0, 2, ..., 120 s: 61 sightings of one notice.
        Assert.Equal(61, _client.InstanceActionReads.Count);
        Assert.Equal([NoticeA], _handler.Notices);
    }

    [Fact]
    public async Task RunAsync_NoticeTimeMovesLaterOnEveryRead_HandlerCalledOnce()
    {
        // amazon-ec2-metadata-mock: every read says "2 minutes from now".
        _client.InstanceAction = i => MetadataReading.Present(new InstanceAction(InstanceActionKind.Terminate, Start.AddSeconds((2 * i) + 120)));

        await RunAsync(TimeSpan.FromSeconds(40));

        // Reads at 0, 2, ..., 40 s: 21 different times, one response, to the first.
        Assert.Equal(21, _client.InstanceActionReads.Count);
        Assert.Equal([new InstanceAction(InstanceActionKind.Terminate, Start.AddSeconds(120))], _handler.Notices);
        Assert.Empty(_handler.Tightened);
        Assert.Single(_logger.Lines, l => l.EventId == 3900);
    }

    [Fact]
    public async Task RunAsync_NoticeTimeMovesEarlier_TightensTheResponseNeverANewOne()
    {
        // 12:04, then 12:02 (earlier: tightened), then 12:04 again (later than the tightened time: ignored).
        _client.InstanceAction = i => MetadataReading.Present(i switch { < 5 => NoticeB, < 10 => NoticeA, _ => NoticeB });

        await RunAsync(TimeSpan.FromMinutes(1));

        Assert.Equal([NoticeB], _handler.Notices);
        Assert.Equal([NoticeA], _handler.Tightened);
    }

    [Fact]
    public async Task RunAsync_NoticeActionChangesAtSameTime_SameResponse()
    {
        var stop = NoticeA with { Kind = InstanceActionKind.Stop };
        _client.InstanceAction = i => MetadataReading.Present(i < 3 ? NoticeA : stop);

        await RunAsync(TimeSpan.FromSeconds(20));

        Assert.Equal([NoticeA], _handler.Notices);
        Assert.Empty(_handler.Tightened);
    }

    [Fact]
    public async Task RunAsync_NoticeGoneAndBack_StillHandledOnce()
    {
        _client.InstanceAction = i => i % 2 == 0 ? MetadataReading.Present(NoticeA) : MetadataReading.Absent<InstanceAction>();

        await RunAsync(TimeSpan.FromSeconds(30));

        Assert.Equal([NoticeA], _handler.Notices);
    }

    [Fact]
    public async Task RunAsync_PollsEachSourceAtItsInterval()
    {
        await RunAsync(TimeSpan.FromMinutes(5));

        // Notice and rebalance every 2 s from 0 to 300 s inclusive; maintenance every 60 s from 0 to 300 s.
        Assert.Equal(151, _client.InstanceActionReads.Count);
        Assert.Equal(151, _client.RebalanceReads.Count);
        Assert.Equal(6, _client.MaintenanceReads.Count);
        Assert.All(Gaps(_client.InstanceActionReads), gap => Assert.Equal(TimeSpan.FromSeconds(2), gap));
        Assert.All(Gaps(_client.MaintenanceReads), gap => Assert.Equal(TimeSpan.FromMinutes(1), gap));
    }

    [Fact]
    public async Task RunAsync_UnknownReadings_BackOffWithJitterBetweenPollIntervalAndMaxBackoff()
    {
        _client.InstanceAction = _ => MetadataReading.Unknown<InstanceAction>("HTTP 503");

        await RunAsync(TimeSpan.FromMinutes(10));

        var gaps = Gaps(_client.InstanceActionReads);
        // After 1 unknown: 2-4 s; after 2: 4-8 s; after 3 or more: 5-10 s (cap 10 s, lower half cut off).
        Assert.InRange(gaps[0], TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4));
        Assert.InRange(gaps[1], TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8));
        Assert.All(gaps.Skip(2), gap => Assert.InRange(gap, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10)));
        Assert.True(gaps.Skip(2).Distinct().Count() > 1, "no jitter: every wait was the same");
        // At most 10 s apart: at least 60 reads in 10 minutes, so a 2-minute notice is seen.
        Assert.True(_client.InstanceActionReads.Count >= 60, $"{_client.InstanceActionReads.Count} reads");
        Assert.Empty(_handler.Notices);
    }

    [Fact]
    public async Task RunAsync_UnknownThenNotice_NoticeHandledOnceAndPollingBackToInterval()
    {
        _client.InstanceAction = i => i < 10 ? MetadataReading.Unknown<InstanceAction>("HTTP 429: throttled") : MetadataReading.Present(NoticeA);

        await RunAsync(TimeSpan.FromMinutes(3));

        Assert.Equal([NoticeA], _handler.Notices);
        Assert.All(Gaps(_client.InstanceActionReads).Skip(10), gap => Assert.Equal(TimeSpan.FromSeconds(2), gap));
        Assert.Single(_logger.Lines, l => l.EventId == 3905);
        var recovered = Assert.Single(_logger.Lines, l => l.EventId == 3907);
        Assert.Contains("10 failed attempts", recovered.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_LongOutage_LogsFirstFailureThenASummaryEveryFiveMinutes()
    {
        _client.InstanceAction = _ => MetadataReading.Unknown<InstanceAction>("no reply within 2 s");

        await RunAsync(TimeSpan.FromMinutes(30));

        var first = Assert.Single(_logger.Lines, l => l.EventId == 3905);
        Assert.Contains("no reply within 2 s", first.Message, StringComparison.Ordinal);
        // A summary once 5 minutes have passed since the last line: 5 or 6 in 30 minutes, not one per read.
        Assert.InRange(_logger.Lines.Count(l => l.EventId == 3906), 5, 6);
        Assert.True(_client.InstanceActionReads.Count > 180, $"{_client.InstanceActionReads.Count} reads");
        Assert.DoesNotContain(_logger.Lines, l => l.EventId == 3907);
    }

    [Fact]
    public async Task RunAsync_ClientThrows_CountsAsUnknownAndPollingContinues()
    {
        _client.InstanceAction = i => i < 3 ? throw new InvalidOperationException("bug in a client") : MetadataReading.Present(NoticeA);

        var run = await RunAsync(TimeSpan.FromMinutes(1));

        Assert.Equal([NoticeA], _handler.Notices);
        Assert.True(run.IsCompletedSuccessfully);
        Assert.Contains(_logger.Lines, l => l.EventId == 3905 && l.Message.Contains("bug in a client", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_HandlerThrows_LoggedNotRetriedAndPollingContinues()
    {
        _client.InstanceAction = i => MetadataReading.Present(i < 5 ? NoticeA : NoticeB);
        _client.Rebalance = i => i < 20 ? MetadataReading.Absent<RebalanceRecommendation>() : MetadataReading.Present(new RebalanceRecommendation(Start));
        _handler.FailOnNotice = n => n == NoticeA ? new InvalidOperationException("backup could not start") : null;

        var run = await RunAsync(TimeSpan.FromMinutes(1));

        // NoticeB is later than NoticeA: the same interruption, not a second response.
        Assert.Equal([NoticeA], _handler.Notices);
        Assert.Equal([new RebalanceRecommendation(Start)], _handler.Rebalances);
        Assert.Single(_logger.Lines, l => l.EventId == 3904);
        Assert.True(run.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task RunAsync_RebalanceNoticeTimeChanges_HandledOncePerInstance()
    {
        var first = new RebalanceRecommendation(new DateTimeOffset(2024, 5, 1, 11, 59, 0, TimeSpan.Zero));
        var second = new RebalanceRecommendation(new DateTimeOffset(2024, 5, 1, 12, 1, 0, TimeSpan.Zero));
        _client.Rebalance = i => MetadataReading.Present(i < 30 ? first : second);

        await RunAsync(TimeSpan.FromMinutes(2));

        Assert.Equal([first], _handler.Rebalances);
        Assert.Empty(_handler.Notices);
    }

    [Fact]
    public async Task RunAsync_RebalanceNoticeTimeMovesOnEveryRead_HandledOnce()
    {
        // The AWS mock recomputes noticeTime on every read.
        _client.Rebalance = i => MetadataReading.Present(new RebalanceRecommendation(Start.AddSeconds(2 * i)));

        await RunAsync(TimeSpan.FromMinutes(10));

        Assert.Equal([new RebalanceRecommendation(Start)], _handler.Rebalances);
        Assert.Single(_logger.Lines, l => l.EventId == 3901);
    }

    [Fact]
    public async Task RunAsync_SourceFlapsOnEveryRead_AtMostOneWarningAndRecoveryPerFiveMinutes()
    {
        // A hung service that answers every other read: unknown, absent, unknown, absent, ...
        _client.InstanceAction = i => i % 2 == 0 ? MetadataReading.Unknown<InstanceAction>("no reply within 2 s") : MetadataReading.Absent<InstanceAction>();

        await RunAsync(TimeSpan.FromMinutes(10));

        var lines = _logger.Lines.Where(l => l.EventId is >= 3905 and <= 3908 && l.Message.Contains("spot/instance-action", StringComparison.Ordinal)).ToList();
        var warnings = lines.Count(l => l.Level == Microsoft.Extensions.Logging.LogLevel.Warning);
        var recoveries = lines.Count(l => l.EventId == 3907);
        // Reads every 2-4 s for 10 minutes: well over 100 flips. Warnings at 0 and once 5 minutes have passed
        // (a third if a flip falls on exactly 10 minutes), each followed by its recovery.
        Assert.True(_client.InstanceActionReads.Count > 100, $"{_client.InstanceActionReads.Count} reads");
        Assert.InRange(warnings, 2, 3);
        Assert.InRange(recoveries, 2, 3);
        Assert.True(recoveries <= warnings, string.Join('\n', lines));
        var summaries = lines.Where(l => l.EventId == 3908).ToList();
        Assert.InRange(summaries.Count, 1, 2);
        Assert.Contains("no reply within 2 s", summaries[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ScheduledEvents_OnlyActiveStopAndRetirementAnnouncedOnce()
    {
        var notBefore = new DateTimeOffset(2024, 5, 3, 9, 0, 0, TimeSpan.Zero);
        var stop = new MaintenanceEvent("instance-event-1", "instance-stop", "active", notBefore, null, "stop");
        var reboot = new MaintenanceEvent("instance-event-2", "system-reboot", "active", notBefore, null, "reboot");
        var hostReboot = new MaintenanceEvent("instance-event-3", "instance-reboot", "active", notBefore, null, "reboot");
        var maintenance = new MaintenanceEvent("instance-event-4", "system-maintenance", "active", notBefore, null, "power");
        var retiredDone = new MaintenanceEvent("instance-event-5", "instance-retirement", "completed", notBefore, null, "done");
        var retiredCanceled = new MaintenanceEvent("instance-event-6", "instance-retirement", "canceled", notBefore, null, "canceled");
        var retirement = new MaintenanceEvent("instance-event-7", "instance-retirement", "active", notBefore, notBefore.AddHours(1), "retire");
        _client.Maintenance = i => MetadataReading.Present<IReadOnlyList<MaintenanceEvent>>(i switch
        {
            < 3 => [stop, reboot, hostReboot, maintenance, retiredDone, retiredCanceled],
            < 6 => [stop with { State = "completed" }, reboot, retirement],
            _ => [],
        });

        await RunAsync(TimeSpan.FromMinutes(10));

        Assert.Equal([stop, retirement], _handler.MaintenanceEvents);
    }

    [Fact]
    public async Task RunAsync_ScheduledEventsUnknown_NoAnnouncementAndNoCrash()
    {
        _client.Maintenance = _ => MetadataReading.Unknown<IReadOnlyList<MaintenanceEvent>>("HTTP 503");

        var run = await RunAsync(TimeSpan.FromMinutes(10));

        Assert.Empty(_handler.MaintenanceEvents);
        Assert.True(run.IsCompletedSuccessfully);
        // Maintenance keeps its own interval while unknown: reads at 0, 1, ..., 10 minutes.
        Assert.Equal(11, _client.MaintenanceReads.Count);
    }

    [Fact]
    public async Task RunAsync_Cancelled_CompletesWithoutThrowing()
    {
        using var cancel = new CancellationTokenSource();
        var watcher = CreateWatcher();
        var run = watcher.RunAsync(cancel.Token);
        await _clock.RunAsync(TimeSpan.FromSeconds(10));

        await cancel.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(run.IsCompletedSuccessfully);
    }

    [Theory]
    [InlineData(0, 0.5, 2.0)]
    [InlineData(1, 0.0, 2.0)]
    [InlineData(1, 1.0, 4.0)]
    [InlineData(2, 0.0, 4.0)]
    [InlineData(2, 1.0, 8.0)]
    [InlineData(3, 0.0, 5.0)]
    [InlineData(3, 1.0, 10.0)]
    [InlineData(7, 0.5, 7.5)]
    [InlineData(100_000, 1.0, 10.0)]
    public void Backoff_PollTwoSecondsCapTen_IsWithinHandComputedBounds(int unknowns, double random, double expectedSeconds)
    {
        var delay = InterruptionWatcher.Backoff(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10), unknowns, random);

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), delay);
    }

    [Theory]
    [InlineData(1, 0.0)]
    [InlineData(5, 1.0)]
    public void Backoff_CapNotAboveInterval_StaysAtInterval(int unknowns, double random)
    {
        var delay = InterruptionWatcher.Backoff(TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1), unknowns, random);

        Assert.Equal(TimeSpan.FromMinutes(1), delay);
    }

    [Theory]
    [InlineData("instance-stop", "active", true)]
    [InlineData("instance-retirement", "active", true)]
    [InlineData("instance-retirement", "Active", true)]
    [InlineData("instance-stop", "completed", false)]
    [InlineData("instance-retirement", "canceled", false)]
    [InlineData("system-reboot", "active", false)]
    [InlineData("instance-reboot", "active", false)]
    [InlineData("system-maintenance", "active", false)]
    public void IsAnnounced_CodeAndState_OnlyActiveEventsThatEndTheInstance(string code, string state, bool expected)
    {
        var maintenanceEvent = new MaintenanceEvent("instance-event-1", code, state, Start, null, "");

        Assert.Equal(expected, InterruptionWatcher.IsAnnounced(maintenanceEvent));
    }

    private InterruptionWatcher CreateWatcher() =>
        new(_client, _handler, Options.Create(new InterruptionOptions()), _clock, _logger, new Random(20240501));

    /// <summary>Runs the watcher for <paramref name="duration"/> of virtual time, stops it and returns its finished task.</summary>
    private async Task<Task> RunAsync(TimeSpan duration)
    {
        using var cancel = new CancellationTokenSource();
        var run = CreateWatcher().RunAsync(cancel.Token);
        await _clock.RunAsync(duration);
        await cancel.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
        return run;
    }

    private static List<TimeSpan> Gaps(List<DateTimeOffset> times) =>
        times.Zip(times.Skip(1), (a, b) => b - a).ToList();
}
