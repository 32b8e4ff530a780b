namespace SpotDevBox.Core.Idle;

/// <summary>
/// Remembers one number per process (CPU ticks, I/O bytes) between samples and answers how much it moved.
/// A process first seen after the first sample started within the interval, so all of its count is new.
/// </summary>
internal sealed class ProcessDeltas
{
    private Dictionary<(int Pid, long StartTicks), long>? _previous;
    private Dictionary<(int Pid, long StartTicks), long> _current = [];

    /// <summary>False until one sample has been completed: there is nothing to compare with yet.</summary>
    public bool HasBaseline => _previous is not null;

    public void Begin() => _current = [];

    /// <summary>Records the count and returns how much it moved since the previous sample.</summary>
    public long Observe((int Pid, long StartTicks) key, long value)
    {
        _current[key] = value;
        if (_previous is null)
        {
            return 0;
        }

        return _previous.TryGetValue(key, out var before) ? Math.Max(0, value - before) : value;
    }

    public void Complete() => _previous = _current;
}
