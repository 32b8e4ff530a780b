namespace SpotDevBox.Core.Idle;

/// <summary>
/// Whole-machine CPU from /proc/stat: busy ticks (user, nice, system, irq, softirq) over all ticks in the
/// interval, times the number of cores, gives cores busy. The agent's own processes' CPU is subtracted.
/// </summary>
public sealed class CpuSignal(HostRoot root, CpuSignalOptions options, ISelfActivity self) : IIdleSignal
{
    private CpuTimes? _previous;
    private DateTimeOffset _previousAt;
    private Dictionary<(int, long), long> _previousSelf = [];

    public string Name => "cpu";

    public bool Enabled => options.Enabled;

    public ValueTask<SignalReading> SampleAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var current = ProcFs.ReadCpuTimes(root);
        if (current is null)
        {
            return ValueTask.FromResult(SignalReading.Unavailable(Name, "/proc/stat cannot be read"));
        }

        var selfNow = new Dictionary<(int, long), long>();
        foreach (var pid in self.ProcessIds)
        {
            if (ProcFs.ReadProcessStat(root, pid) is { } process)
            {
                selfNow[process.Key] = process.CpuTicks;
            }
        }

        var previous = _previous;
        var previousSelf = _previousSelf;
        var elapsed = now - _previousAt;
        _previous = current;
        _previousAt = now;
        _previousSelf = selfNow;
        if (previous is null)
        {
            return ValueTask.FromResult(SignalReading.Inactive(Name, "first sample, baseline taken"));
        }

        var total = current.TotalTicks - previous.TotalTicks;
        if (total <= 0)
        {
            return ValueTask.FromResult(SignalReading.Inactive(Name, "no CPU time passed since the last sample"));
        }

        var own = selfNow.Sum(p => Math.Max(0, p.Value - previousSelf.GetValueOrDefault(p.Key)));
        var busy = Math.Max(0, current.BusyTicks - previous.BusyTicks - own);
        var cores = busy / (double)total * current.Cores;
        var text = $"CPU {cores:0.0#} of {current.Cores} cores busy ({busy * 100.0 / total:0}%) {Text.Interval(elapsed)}";
        return ValueTask.FromResult(cores >= options.MinBusyCores
            ? SignalReading.ActiveBecause(Name, text)
            : SignalReading.Inactive(Name, $"{text}, below {options.MinBusyCores:0.0#} cores"));
    }
}
