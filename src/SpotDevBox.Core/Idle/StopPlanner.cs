using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace SpotDevBox.Core.Idle;

/// <summary>
/// Decides when the box stops, driven by <see cref="TickAsync"/> once per sample interval. Every stop takes
/// the same path: warn users at each WarnAt lead, run the final backup, and power off only once it committed.
/// <list type="bullet">
/// <item>Idle: no signal active for IdleTimeout. Activity during the countdown cancels it.</item>
/// <item>Schedule: warns ahead of the stop time; at that time it stops if the box is idle, else it waits
/// until the box has been idle for the longest warning lead (warning again), and at most MaxScheduleOverrun
/// past the stop time, when it stops regardless (warning first).</item>
/// <item>Maximum session length: a hard cap from the session start; warned, never postponed.</item>
/// <item>Manual: one warning, then backup and power-off at once.</item>
/// </list>
/// Except for a manual stop, the box never stops sooner than the shortest warning lead after its first warning,
/// so a stop that appears late (a schedule already past) still gives people a moment.
/// A final backup that fails holds the stop: users are told, and it is tried again after FinalBackupRetryInterval
/// for as long as the stop is still due. Power-off is asked for exactly once.
/// </summary>
public sealed partial class StopPlanner
{
    private readonly IdleMonitor _monitor;
    private readonly IStopActions _actions;
    private readonly IdleOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IReadOnlyList<TimeSpan> _leads;
    private readonly Lock _gate = new();
    private DateTimeOffset _sessionStart;
    private DateTimeOffset? _scheduledStop;
    private DateTimeOffset? _manualStop;
    private Countdown? _countdown;
    private Failure? _failure;
    private bool _schedulePostponed;
    private StopReason? _backupCommitted;
    private bool _poweredOff;
    private volatile PlannerStatus _status = new StartingStatus();

    public StopPlanner(IdleMonitor monitor, IStopActions actions, IOptions<IdleOptions> options, TimeProvider time, ILogger<StopPlanner> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _monitor = monitor;
        _actions = actions;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _leads = _options.EffectiveWarnAt;
        _sessionStart = time.GetUtcNow();
    }

    /// <summary>The state for status: awake (why), idle (for how long, stopping when), stopping, held, powered off.</summary>
    public PlannerStatus Status => _status;

    /// <summary>The session's start, from which MaxSessionLength counts; the planner's creation until set.</summary>
    public DateTimeOffset SessionStart
    {
        get { lock (_gate) { return _sessionStart; } }
        set { lock (_gate) { _sessionStart = value; } }
    }

    /// <summary>The scheduled stop time, if one was requested.</summary>
    public DateTimeOffset? ScheduledStop
    {
        get { lock (_gate) { return _scheduledStop; } }
    }

    /// <summary>
    /// Asks for a stop at <paramref name="at"/>: <see cref="StopReason.Schedule"/> (replaces an earlier schedule
    /// stop; activity postpones it up to MaxScheduleOverrun) or <see cref="StopReason.Manual"/> (not postponed).
    /// Asking again for the same stop changes nothing, so a control document can be applied every minute.
    /// </summary>
    public void RequestStop(DateTimeOffset at, StopReason reason)
    {
        lock (_gate)
        {
            switch (reason)
            {
                case StopReason.Schedule when _scheduledStop != at:
                    _scheduledStop = at;
                    _schedulePostponed = false;
                    break;
                case StopReason.Manual when _manualStop is null || at < _manualStop:
                    _manualStop = at;
                    break;
                case StopReason.Schedule or StopReason.Manual:
                    return;
                default:
                    throw new ArgumentOutOfRangeException(nameof(reason), reason, "only a schedule or a manual stop can be requested");
            }
        }

        LogStopRequested(_logger, reason, at);
    }

    /// <summary>Withdraws a schedule stop (the controller changed its mind). A manual stop cannot be withdrawn.</summary>
    public void CancelScheduledStop()
    {
        DateTimeOffset? was;
        lock (_gate)
        {
            was = _scheduledStop;
            _scheduledStop = null;
            _schedulePostponed = false;
        }

        if (was is { } at)
        {
            LogScheduledStopCancelled(_logger, at);
        }
    }

    /// <summary>Samples the signals and moves the stop plan on: warns, backs up, powers off as due.</summary>
    public async Task TickAsync(CancellationToken cancellationToken)
    {
        if (_poweredOff)
        {
            return;
        }

        if (_backupCommitted is { } committed)
        {
            // The backup is safe; only the power-off failed. Nothing that happened since can un-stop the box.
            await PowerOffAsync(committed, cancellationToken);
            return;
        }

        var assessment = await _monitor.SampleAsync(cancellationToken);
        var now = assessment.At;
        var target = ChooseTarget(assessment, now);
        if (target is null)
        {
            StandDown(assessment);
            _status = new AwakeStatus(assessment.AwakeBecause, null, TimeSpan.Zero);
            return;
        }

        if (_countdown is null || _countdown.Target != target)
        {
            if (_countdown is { } old)
            {
                LogCountdownReplaced(_logger, old.Target.Reason, old.Target.At, target.Reason, target.At);
            }

            _countdown = new Countdown(target);
        }

        await WarnIfDueAsync(_countdown, now, cancellationToken);
        var stopAt = StopTime(_countdown);
        if (now < stopAt)
        {
            _status = assessment.IsIdle
                ? new IdleStatus(assessment.IdleFor, stopAt - now, target.Reason)
                : new AwakeStatus(assessment.AwakeBecause, target, stopAt - now);
            return;
        }

        if (_failure is { } failure && now < failure.RetryAt)
        {
            _status = new BackupFailedStatus(target.Reason, failure.Attempts, failure.LastError, failure.RetryAt - now);
            return;
        }

        await StopAsync(target.Reason, now, cancellationToken);
    }

    private PendingStop? ChooseTarget(IdleAssessment assessment, DateTimeOffset now)
    {
        DateTimeOffset sessionStart;
        DateTimeOffset? scheduled, manual;
        lock (_gate)
        {
            sessionStart = _sessionStart;
            scheduled = _scheduledStop;
            manual = _manualStop;
        }

        // In order of precedence when two fall at the same time.
        var candidates = new List<PendingStop>(4);
        if (manual is { } m)
        {
            candidates.Add(new PendingStop(StopReason.Manual, m, Postponable: false));
        }

        if (_options.MaxSessionLength is { } cap)
        {
            candidates.Add(new PendingStop(StopReason.MaxSessionLength, sessionStart + cap, Postponable: false));
        }

        if (scheduled is { } at)
        {
            candidates.Add(ScheduleTarget(assessment, now, at));
        }

        if (assessment.IdleSince is { } idleSince)
        {
            candidates.Add(new PendingStop(StopReason.Idle, idleSince + _options.IdleTimeout, Postponable: true));
        }

        return candidates.Count == 0 ? null : candidates.MinBy(c => c.At);
    }

    private PendingStop ScheduleTarget(IdleAssessment assessment, DateTimeOffset now, DateTimeOffset at)
    {
        if (now < at)
        {
            return new PendingStop(StopReason.Schedule, at, Postponable: true);
        }

        var latest = at + _options.MaxScheduleOverrun;
        if (assessment.IdleSince is { } idleSince)
        {
            // Idle before the stop time: stop at it. Went idle later: warn again and give the longest lead.
            var once = idleSince + (_leads.Count > 0 ? _leads[0] : TimeSpan.Zero);
            return new PendingStop(StopReason.Schedule, Max(at, Min(once, latest)), Postponable: true);
        }

        if (!_schedulePostponed && now < latest)
        {
            _schedulePostponed = true;
            var reasons = assessment.AwakeReasons;
            LogSchedulePostponed(_logger, at, latest, reasons);
        }

        return new PendingStop(StopReason.Schedule, latest, Postponable: false);
    }

    private void StandDown(IdleAssessment assessment)
    {
        if (_countdown is { } old)
        {
            var reasons = assessment.AwakeReasons;
            LogCountdownCancelled(_logger, old.Target.Reason, old.Target.At, reasons);
            _countdown = null;
        }

        if (_failure is not null)
        {
            _failure = null;
        }
    }

    private DateTimeOffset StopTime(Countdown countdown)
    {
        var at = countdown.Target.At;
        if (countdown.Target.Reason != StopReason.Manual && countdown.FirstWarnedAt is { } first && _leads.Count > 0)
        {
            at = Max(at, first + _leads[^1]);
        }

        return at;
    }

    private async Task WarnIfDueAsync(Countdown countdown, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var target = countdown.Target;
        var left = target.At - now;
        var due = _leads.Where(l => left <= l && !countdown.Warned.Contains(l)).ToList();
        var manualNow = target.Reason == StopReason.Manual && countdown.FirstWarnedAt is null;
        if (due.Count == 0 && !manualNow)
        {
            return;
        }

        countdown.Warned.UnionWith(due);
        countdown.FirstWarnedAt ??= now;
        left = StopTime(countdown) - now;
        var warning = CountdownWarning(target, now, left < TimeSpan.Zero ? TimeSpan.Zero : left);
        LogWarning(_logger, target.Reason, warning.MinutesLeft, warning.Message);
        await DeliverAsync(warning, cancellationToken);
    }

    private StopWarning CountdownWarning(PendingStop target, DateTimeOffset now, TimeSpan left)
    {
        var stopAt = now + left;
        var when = left <= TimeSpan.Zero ? "now" : $"in {Text.MinutesLeft(left)} (at {Text.Clock(stopAt)})";
        var postpone = _options.PostponeCommand;
        var (text, command) = target.Reason switch
        {
            StopReason.Idle =>
                ($"nobody has used this box for a while: it will back up your work and power off {when}. To keep it up, type anything in a terminal or run: {postpone}", postpone),
            StopReason.Schedule when target.Postponable =>
                ($"the scheduled stop is due {when}: the box will back up your work and power off once nobody uses it. To keep it up, keep working or run: {postpone}", postpone),
            StopReason.Schedule =>
                ($"the scheduled stop cannot wait any longer: the box will back up your work and power off {when}. Save your work.", null),
            StopReason.MaxSessionLength =>
                ($"this session reaches its maximum length ({Text.Minutes(_options.MaxSessionLength ?? TimeSpan.Zero)}): the box will back up your work and power off {when}. This cannot be postponed; save your work.", null),
            _ =>
                ($"a stop was requested: the box will back up your work and power off {when}.", (string?)null),
        };
        return new StopWarning(StopWarningKind.Countdown, target.Reason, left, stopAt, command, $"SpotDevBox: {text}");
    }

    private async Task StopAsync(StopReason reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        _status = new StoppingStatus(reason);
        var attempt = (_failure?.Attempts ?? 0) + 1;
        LogFinalBackupStarting(_logger, reason, attempt);
        string? error = null;
        bool committed;
        try
        {
            committed = await _actions.FinalBackupAsync(reason, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Decided here: a final backup that threw did not commit, and the box must not power off.
            committed = false;
            error = e.Message;
        }

        if (!committed)
        {
            error ??= "the snapshot did not commit";
            var retryAt = _time.GetUtcNow() + _options.FinalBackupRetryInterval;
            _failure = new Failure(attempt, error, retryAt);
            LogFinalBackupFailed(_logger, reason, attempt, error, retryAt);
            _status = new BackupFailedStatus(reason, attempt, error, retryAt - now);
            var left = retryAt - now;
            await DeliverAsync(new StopWarning(StopWarningKind.BackupFailed, reason, left, retryAt, null,
                $"SpotDevBox: the final backup before powering off failed ({error}), so the box stays up. Work since the last backup is not saved yet. Next attempt in {Text.MinutesLeft(left)}."), cancellationToken);
            return;
        }

        _failure = null;
        _backupCommitted = reason;
        await PowerOffAsync(reason, cancellationToken);
    }

    private async Task PowerOffAsync(StopReason reason, CancellationToken cancellationToken)
    {
        LogPoweringOff(_logger, reason);
        _status = new PoweredOffStatus(reason);
        try
        {
            await _actions.PowerOffAsync(reason, cancellationToken);
            _poweredOff = true;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Decided here: the backup is committed, so the next tick asks again rather than giving up.
            LogPowerOffFailed(_logger, e, reason, e.Message);
        }
    }

    private async Task DeliverAsync(StopWarning warning, CancellationToken cancellationToken)
    {
        try
        {
            await _actions.WarnUsersAsync(warning, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Decided here: an undeliverable warning (no wall, webhook down) does not hold a stop.
            LogWarningUndelivered(_logger, e, warning.Reason, e.Message);
        }
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private sealed class Countdown(PendingStop target)
    {
        public PendingStop Target { get; } = target;
        public HashSet<TimeSpan> Warned { get; } = [];
        public DateTimeOffset? FirstWarnedAt { get; set; }
    }

    private sealed record Failure(int Attempts, string LastError, DateTimeOffset RetryAt);

    [LoggerMessage(EventId = 4010, Level = LogLevel.Warning, Message = "Stop ({Reason}) in {MinutesLeft} min; users warned: {Message}")]
    private static partial void LogWarning(ILogger logger, StopReason reason, int minutesLeft, string message);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Information, Message = "Stop countdown ({Reason}, due {DueAt:u}) cancelled: awake because {Reasons}")]
    private static partial void LogCountdownCancelled(ILogger logger, StopReason reason, DateTimeOffset dueAt, string reasons);

    [LoggerMessage(EventId = 4012, Level = LogLevel.Information, Message = "Stop countdown ({Reason}, due {DueAt:u}) replaced by {NewReason}, due {NewDueAt:u}")]
    private static partial void LogCountdownReplaced(ILogger logger, StopReason reason, DateTimeOffset dueAt, StopReason newReason, DateTimeOffset newDueAt);

    [LoggerMessage(EventId = 4013, Level = LogLevel.Information, Message = "Stopping ({Reason}): final backup, attempt {Attempt}")]
    private static partial void LogFinalBackupStarting(ILogger logger, StopReason reason, int attempt);

    [LoggerMessage(EventId = 4014, Level = LogLevel.Error, Message = "Final backup ({Reason}) attempt {Attempt} did not commit, not powering off: {Error}; next attempt at {RetryAt:u}")]
    private static partial void LogFinalBackupFailed(ILogger logger, StopReason reason, int attempt, string error, DateTimeOffset retryAt);

    [LoggerMessage(EventId = 4015, Level = LogLevel.Warning, Message = "Final backup committed; powering off ({Reason})")]
    private static partial void LogPoweringOff(ILogger logger, StopReason reason);

    [LoggerMessage(EventId = 4016, Level = LogLevel.Error, Message = "Power-off ({Reason}) failed, asking again at the next tick: {Error}")]
    private static partial void LogPowerOffFailed(ILogger logger, Exception exception, StopReason reason, string error);

    [LoggerMessage(EventId = 4017, Level = LogLevel.Information, Message = "Scheduled stop at {StopAt:u} postponed until the box is idle, {Latest:u} at the latest: awake because {Reasons}")]
    private static partial void LogSchedulePostponed(ILogger logger, DateTimeOffset stopAt, DateTimeOffset latest, string reasons);

    [LoggerMessage(EventId = 4018, Level = LogLevel.Information, Message = "Stop requested ({Reason}) at {StopAt:u}")]
    private static partial void LogStopRequested(ILogger logger, StopReason reason, DateTimeOffset stopAt);

    [LoggerMessage(EventId = 4019, Level = LogLevel.Information, Message = "Scheduled stop at {StopAt:u} withdrawn")]
    private static partial void LogScheduledStopCancelled(ILogger logger, DateTimeOffset stopAt);

    [LoggerMessage(EventId = 4020, Level = LogLevel.Warning, Message = "A stop warning ({Reason}) could not be delivered: {Error}")]
    private static partial void LogWarningUndelivered(ILogger logger, Exception exception, StopReason reason, string error);
}
