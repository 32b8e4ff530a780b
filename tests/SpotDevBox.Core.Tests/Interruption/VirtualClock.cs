using Microsoft.Extensions.Time.Testing;

namespace SpotDevBox.Core.Tests.Interruption;

/// <summary>
/// A FakeTimeProvider that knows which timers are waiting, so a test can step the watcher's loops
/// deterministically: wait until every loop sleeps, then jump to the earliest wake-up.
/// </summary>
internal sealed class VirtualClock(DateTimeOffset start) : TimeProvider
{
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _fake = new(start);
    private readonly List<TrackedTimer> _timers = [];

    public override DateTimeOffset GetUtcNow() => _fake.GetUtcNow();

    public override long GetTimestamp() => _fake.GetTimestamp();

    public override long TimestampFrequency => _fake.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => _fake.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new TrackedTimer(this, _fake.CreateTimer(callback, state, dueTime, period), _fake.GetUtcNow() + dueTime);
        lock (_timers)
        {
            _timers.Add(timer);
        }

        return timer;
    }

    /// <summary>
    /// Moves time forward by <paramref name="duration"/>, waking each sleeper in turn. Before every step it
    /// waits (in real time) until <paramref name="sleepers"/> timers are pending, i.e. every loop is asleep.
    /// </summary>
    public async Task RunAsync(TimeSpan duration, int sleepers = 3)
    {
        var end = _fake.GetUtcNow() + duration;
        while (true)
        {
            var next = await NextWakeUpAsync(sleepers);
            var now = _fake.GetUtcNow();
            if (next > end)
            {
                _fake.Advance(end - now);
                return;
            }

            _fake.Advance(next - now);
        }
    }

    private async Task<DateTimeOffset> NextWakeUpAsync(int sleepers)
    {
        var giveUp = Environment.TickCount64 + (long)SettleTimeout.TotalMilliseconds;
        while (true)
        {
            var now = _fake.GetUtcNow();
            lock (_timers)
            {
                var pending = _timers.Where(t => !t.Disposed && t.Due > now).ToList();
                if (pending.Count >= sleepers)
                {
                    return pending.Min(t => t.Due);
                }
            }

            if (Environment.TickCount64 > giveUp)
            {
                throw new TimeoutException($"the loops did not all go to sleep ({sleepers} expected)");
            }

            await Task.Delay(1);
        }
    }

    private sealed class TrackedTimer(VirtualClock owner, ITimer inner, DateTimeOffset due) : ITimer
    {
        public DateTimeOffset Due { get; private set; } = due;

        public bool Disposed { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            Due = owner.GetUtcNow() + dueTime;
            return inner.Change(dueTime, period);
        }

        public void Dispose()
        {
            Disposed = true;
            inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return inner.DisposeAsync();
        }
    }
}
