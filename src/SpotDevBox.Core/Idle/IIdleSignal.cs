namespace SpotDevBox.Core.Idle;

/// <summary>One source of evidence that somebody is using the box.</summary>
public interface IIdleSignal
{
    /// <summary>A short stable name ("sessions", "cpu", ...) used in logs and status.</summary>
    string Name { get; }

    /// <summary>Disabled signals are not sampled at all.</summary>
    bool Enabled { get; }

    /// <summary>
    /// Reads the signal and judges the interval since the previous call. Rate-based signals have nothing to
    /// compare on the first call and report not active, having taken their baseline.
    /// </summary>
    ValueTask<SignalReading> SampleAsync(DateTimeOffset now, CancellationToken cancellationToken);
}

public enum SignalState
{
    /// <summary>Somebody is using the box, as far as this signal can tell.</summary>
    Active,

    /// <summary>Read, and nothing keeps the box awake.</summary>
    Inactive,

    /// <summary>Cannot be read here (no GPU tooling, a failing sensor); counts as not active.</summary>
    Unavailable,
}

/// <param name="Signal">The signal's <see cref="IIdleSignal.Name"/>.</param>
/// <param name="Reason">For people: what was seen, e.g. "make (pid 4242) used 38 s CPU in the last minute".</param>
public sealed record SignalReading(string Signal, SignalState State, string Reason)
{
    public bool Active => State == SignalState.Active;

    public static SignalReading ActiveBecause(string signal, string reason) => new(signal, SignalState.Active, reason);

    public static SignalReading Inactive(string signal, string reason) => new(signal, SignalState.Inactive, reason);

    public static SignalReading Unavailable(string signal, string reason) => new(signal, SignalState.Unavailable, reason);
}
