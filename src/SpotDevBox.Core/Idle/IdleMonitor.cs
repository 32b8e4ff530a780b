using Microsoft.Extensions.Logging;

namespace SpotDevBox.Core.Idle;

/// <summary>What one round of sampling found.</summary>
/// <param name="IdleSince">When the box last went idle (no signal active), or null while a signal keeps it awake.</param>
public sealed record IdleAssessment(DateTimeOffset At, IReadOnlyList<SignalReading> Readings, DateTimeOffset? IdleSince)
{
    public bool IsIdle => IdleSince is not null;

    public TimeSpan IdleFor => IdleSince is { } since ? At - since : TimeSpan.Zero;

    /// <summary>The readings that keep the box awake (none when idle).</summary>
    public IReadOnlyList<SignalReading> AwakeBecause => [.. Readings.Where(r => r.Active)];

    /// <summary>"make (pid 4242) used 38 s CPU in the last minute; GPU 0 at 87%".</summary>
    public string AwakeReasons => Text.Join(AwakeBecause.Select(r => r.Reason));
}

/// <summary>
/// Samples every enabled signal, keeps "idle since" (cleared whenever any signal is active), and logs one
/// event each time the decision changes (awake for another set of signals, or idle), not one a minute.
/// A signal that throws counts as not active: a broken sensor must not keep a box up (and paying) forever.
/// </summary>
public sealed partial class IdleMonitor
{
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HashSet<string> _unavailable = new(StringComparer.Ordinal);
    private volatile IdleAssessment? _latest;
    private string? _decision;

    public IdleMonitor(IEnumerable<IIdleSignal> signals, TimeProvider time, ILogger<IdleMonitor> logger)
    {
        ArgumentNullException.ThrowIfNull(signals);
        Signals = [.. signals.Where(s => s.Enabled)];
        _time = time;
        _logger = logger;
    }

    /// <summary>The enabled signals, in the order they are sampled.</summary>
    public IReadOnlyList<IIdleSignal> Signals { get; }

    /// <summary>The last assessment, or null before the first sample.</summary>
    public IdleAssessment? Latest => _latest;

    public async Task<IdleAssessment> SampleAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var readings = new List<SignalReading>(Signals.Count);
        foreach (var signal in Signals)
        {
            readings.Add(await SampleOneAsync(signal, now, cancellationToken));
        }

        var awake = readings.Where(r => r.Active).ToList();
        var idleSince = awake.Count > 0 ? (DateTimeOffset?)null : _latest?.IdleSince ?? now;
        var assessment = new IdleAssessment(now, readings, idleSince);
        _latest = assessment;
        LogIfChanged(assessment, awake);
        return assessment;
    }

    private async Task<SignalReading> SampleOneAsync(IIdleSignal signal, DateTimeOffset now, CancellationToken cancellationToken)
    {
        SignalReading reading;
        try
        {
            reading = await signal.SampleAsync(now, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            if (_unavailable.Add(signal.Name))
            {
                LogSignalFailed(_logger, e, signal.Name, e.Message);
            }

            return SignalReading.Unavailable(signal.Name, $"failed: {e.Message}");
        }

        if (reading.State == SignalState.Unavailable)
        {
            if (_unavailable.Add(signal.Name))
            {
                LogSignalUnavailable(_logger, signal.Name, reading.Reason);
            }
        }
        else
        {
            _unavailable.Remove(signal.Name);
        }

        return reading;
    }

    private void LogIfChanged(IdleAssessment assessment, List<SignalReading> awake)
    {
        var decision = awake.Count == 0 ? "" : string.Join(',', awake.Select(r => r.Signal));
        if (decision == _decision)
        {
            return;
        }

        _decision = decision;
        if (awake.Count > 0)
        {
            var signals = string.Join(", ", awake.Select(r => r.Signal));
            var reasons = assessment.AwakeReasons;
            LogAwake(_logger, signals, reasons);
        }
        else
        {
            var readings = Text.Join(assessment.Readings.Select(r => $"{r.Signal}: {r.Reason}"));
            LogIdle(_logger, assessment.IdleSince!.Value, readings);
        }
    }

    [LoggerMessage(EventId = 4000, Level = LogLevel.Information, Message = "Box stays awake because of {Signals}: {Reasons}")]
    private static partial void LogAwake(ILogger logger, string signals, string reasons);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Box idle since {IdleSince:u}: no signal keeps it awake ({Readings})")]
    private static partial void LogIdle(ILogger logger, DateTimeOffset idleSince, string readings);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Idle signal {Signal} is unavailable and counts as not active: {Reason}")]
    private static partial void LogSignalUnavailable(ILogger logger, string signal, string reason);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "Idle signal {Signal} failed and counts as not active: {Error}")]
    private static partial void LogSignalFailed(ILogger logger, Exception exception, string signal, string error);
}
