namespace SpotDevBox.Core.Idle;

/// <summary>
/// Bytes received plus sent per second over the interval, summed over the interfaces in /proc/net/dev that
/// are not excluded (loopback and container bridges by default). An interval in which the agent itself was
/// busy (its backups upload) is not counted, since /proc cannot say whose bytes they were.
/// </summary>
public sealed class NetworkSignal(HostRoot root, NetworkSignalOptions options, ISelfActivity self) : IIdleSignal
{
    private readonly IReadOnlyList<string> _excludes = options.EffectiveExcludeInterfaces;
    private Dictionary<string, (long Received, long Sent)>? _previous;
    private DateTimeOffset _previousAt;

    public string Name => "network";

    public bool Enabled => options.Enabled;

    public ValueTask<SignalReading> SampleAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var current = ProcFs.ReadNetworkCounters(root);
        if (current is null)
        {
            return ValueTask.FromResult(SignalReading.Unavailable(Name, "/proc/net/dev cannot be read"));
        }

        var previous = _previous;
        var previousAt = _previousAt;
        _previous = current;
        _previousAt = now;
        if (previous is null)
        {
            return ValueTask.FromResult(SignalReading.Inactive(Name, "first sample, baseline taken"));
        }

        var elapsed = now - previousAt;
        if (self.WasBusy(previousAt, now))
        {
            return ValueTask.FromResult(SignalReading.Inactive(Name, $"not counted {Text.Interval(elapsed)}: the agent's own backup was running"));
        }

        if (elapsed <= TimeSpan.Zero)
        {
            return ValueTask.FromResult(SignalReading.Inactive(Name, "no time passed since the last sample"));
        }

        long moved = 0;
        var busiest = (Name: "", Bytes: -1L);
        foreach (var (name, counters) in current)
        {
            if (IsExcluded(name) || !previous.TryGetValue(name, out var before))
            {
                continue;
            }

            // A counter that went down was reset (the interface was recreated): count from zero.
            var bytes = Math.Max(0, counters.Received - before.Received) + Math.Max(0, counters.Sent - before.Sent);
            moved += bytes;
            if (bytes > busiest.Bytes)
            {
                busiest = (name, bytes);
            }
        }

        var rate = moved / elapsed.TotalSeconds;
        var text = $"network {Text.Bytes(rate)}/s in+out {Text.Interval(elapsed)}{(busiest.Bytes > 0 ? $" (mostly {busiest.Name})" : "")}";
        return ValueTask.FromResult(rate >= options.MinBytesPerSecond
            ? SignalReading.ActiveBecause(Name, text)
            : SignalReading.Inactive(Name, $"{text}, below {Text.Bytes(options.MinBytesPerSecond)}/s"));
    }

    private bool IsExcluded(string name) => _excludes.Any(pattern => pattern.EndsWith('*')
        ? name.StartsWith(pattern[..^1], StringComparison.Ordinal)
        : name.Equals(pattern, StringComparison.Ordinal));
}
