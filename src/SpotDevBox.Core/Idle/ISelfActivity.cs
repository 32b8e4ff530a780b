namespace SpotDevBox.Core.Idle;

/// <summary>
/// The agent's own work (backups upload data and burn CPU) must not keep the box awake. Its CPU can be told
/// apart exactly, by process id: process signals skip these ids and the CPU signal subtracts their CPU time.
/// Network bytes cannot be attributed to a process from /proc, so the network signal does not count an
/// interval in which the agent was busy.
/// </summary>
public interface ISelfActivity
{
    /// <summary>The agent's own processes (normally just its own id).</summary>
    IReadOnlyCollection<int> ProcessIds { get; }

    /// <summary>Whether the agent did I/O-heavy work (a backup, a restore) at any moment between the two instants.</summary>
    bool WasBusy(DateTimeOffset from, DateTimeOffset to);
}

/// <summary>
/// Records the agent's busy periods: wrap each backup in <see cref="BeginWork"/>. Only the periods of the last
/// hour are kept, which is far more than a sample interval.
/// </summary>
public sealed class SelfActivityTracker(TimeProvider time, IReadOnlyCollection<int> processIds) : ISelfActivity
{
    private static readonly TimeSpan Keep = TimeSpan.FromHours(1);
    private readonly Lock _gate = new();
    private readonly List<Period> _periods = [];

    public SelfActivityTracker(TimeProvider time)
        : this(time, [Environment.ProcessId])
    {
    }

    public IReadOnlyCollection<int> ProcessIds { get; } = processIds;

    /// <summary>Marks the agent busy until the returned handle is disposed.</summary>
    public IDisposable BeginWork()
    {
        var period = new Period(time.GetUtcNow());
        lock (_gate)
        {
            var cutoff = period.Start - Keep;
            _periods.RemoveAll(p => p.End is { } end && end < cutoff);
            _periods.Add(period);
        }

        return new Work(this, period);
    }

    public bool WasBusy(DateTimeOffset from, DateTimeOffset to)
    {
        lock (_gate)
        {
            return _periods.Exists(p => p.Start <= to && (p.End ?? DateTimeOffset.MaxValue) >= from);
        }
    }

    private void End(Period period)
    {
        lock (_gate)
        {
            period.End ??= time.GetUtcNow();
        }
    }

    private sealed class Period(DateTimeOffset start)
    {
        public DateTimeOffset Start { get; } = start;
        public DateTimeOffset? End { get; set; }
    }

    private sealed class Work(SelfActivityTracker owner, Period period) : IDisposable
    {
        public void Dispose() => owner.End(period);
    }
}

/// <summary>For a process that does no work of its own worth excluding (tests, the CLI).</summary>
public sealed class NoSelfActivity : ISelfActivity
{
    public static NoSelfActivity Instance { get; } = new();

    public IReadOnlyCollection<int> ProcessIds { get; } = [];

    public bool WasBusy(DateTimeOffset from, DateTimeOffset to) => false;
}
