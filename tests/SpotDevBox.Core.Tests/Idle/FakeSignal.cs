using SpotDevBox.Core.Idle;

namespace SpotDevBox.Core.Tests.Idle;

/// <summary>A signal whose reading a test sets.</summary>
public sealed class FakeSignal(string name, bool enabled = true) : IIdleSignal
{
    public string Name { get; } = name;

    public bool Enabled { get; } = enabled;

    public string? ActiveBecause { get; set; }

    public Exception? Throws { get; set; }

    public int Samples { get; private set; }

    public ValueTask<SignalReading> SampleAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        Samples++;
        if (Throws is { } e)
        {
            throw e;
        }

        return ValueTask.FromResult(ActiveBecause is { } reason
            ? SignalReading.ActiveBecause(Name, reason)
            : SignalReading.Inactive(Name, "quiet"));
    }
}
