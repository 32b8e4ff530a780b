using Microsoft.Extensions.Time.Testing;
using SpotDevBox.Core.Idle;

namespace SpotDevBox.Core.Tests.Idle;

public sealed class SelfActivityTrackerTests
{
    private static readonly DateTimeOffset T0 = new(2025, 6, 2, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void WasBusy_WorkOverlappingTheInterval_True()
    {
        var time = new FakeTimeProvider(T0);
        var tracker = new SelfActivityTracker(time, [999]);
        time.Advance(TimeSpan.FromSeconds(50));
        using (tracker.BeginWork())
        {
            time.Advance(TimeSpan.FromMinutes(3));
        }

        Assert.True(tracker.WasBusy(T0, T0.AddMinutes(1)));
        Assert.True(tracker.WasBusy(T0.AddMinutes(3), T0.AddMinutes(4)));
        Assert.False(tracker.WasBusy(T0.AddMinutes(4), T0.AddMinutes(5)));
    }

    [Fact]
    public void WasBusy_WorkStillRunning_TrueForEveryLaterInterval()
    {
        var time = new FakeTimeProvider(T0);
        var tracker = new SelfActivityTracker(time, [999]);
        using var work = tracker.BeginWork();
        time.Advance(TimeSpan.FromMinutes(30));

        Assert.True(tracker.WasBusy(T0.AddMinutes(29), T0.AddMinutes(30)));
        Assert.False(tracker.WasBusy(T0.AddMinutes(-2), T0.AddMinutes(-1)));
    }
}
