using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.Idle;

namespace SpotDevBox.Agent;

/// <summary>
/// The lease that keeps the box awake: the later of the one <c>spotdevbox keepalive</c> left on the box
/// (read at every tick, so it takes effect at once) and the one in the box's control document.
/// </summary>
internal sealed partial class AgentLeases(IOptions<AgentOptions> options, TimeProvider time, ILogger<AgentLeases> logger) : ILeaseSource
{
    private volatile Lease? _remote;

    public LeaseFile Local { get; } = LeaseFile.InRunDirectory(options.Value.RunDirectory);

    public void SetRemote(Lease? lease) => _remote = lease;

    public ValueTask<Lease?> GetLeaseAsync(CancellationToken cancellationToken)
    {
        Lease? local = null;
        try
        {
            local = Local.Read();
        }
        catch (LeaseUnreadableException e)
        {
            // A broken lease file must not keep the box up for ever, nor stop the agent.
            LogLeaseUnreadable(logger, e.Message);
        }

        var now = time.GetUtcNow();
        local = Clamp(local, "the local lease file", now);
        var remote = Clamp(_remote, "control.json", now);
        return ValueTask.FromResult(local is null ? remote : remote is null || local.Until >= remote.Until ? local : remote);
    }

    /// <summary>The 7-day cap holds whoever wrote the lease: a lease further out counts as ending 7 days from now.</summary>
    private Lease? Clamp(Lease? lease, string source, DateTimeOffset now)
    {
        if (lease?.ClampedAt(now) is not { } clamped || clamped == lease)
        {
            return lease;
        }

        LogLeaseClamped(logger, source, lease.Until, clamped.Until);
        return clamped;
    }

    [LoggerMessage(EventId = 3403, Level = LogLevel.Warning, Message = "The lease in {Source} runs until {Until}, past the 7-day cap: it counts as ending at {Clamped}")]
    private static partial void LogLeaseClamped(ILogger logger, string source, DateTimeOffset until, DateTimeOffset clamped);

    [LoggerMessage(EventId = 3400, Level = LogLevel.Warning, Message = "Ignoring the local lease: {Reason}")]
    private static partial void LogLeaseUnreadable(ILogger logger, string reason);
}

/// <summary>The stop planner's hands: tell users, take the final backup, power off — in that order, never power off without the backup.</summary>
internal sealed partial class AgentStopActions(
    Notifier notifier,
    AgentBackups backups,
    AgentStatusBoard board,
    SessionRecorder sessions,
    IOptions<AgentOptions> options,
    ILogger<AgentStopActions> logger) : IStopActions
{
    public Task WarnUsersAsync(StopWarning warning, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(warning);
        return notifier.NotifyAsync(warning.Kind == StopWarningKind.BackupFailed ? NotificationKind.BackupFailed : NotificationKind.StopWarning, warning.Message, cancellationToken);
    }

    public async Task<bool> FinalBackupAsync(StopReason reason, CancellationToken cancellationToken)
    {
        board.DecideEnd(Map(reason), reason.ToString());
        if (board.Current.State == AgentState.RestoreFailed && !backups.IsReady)
        {
            // A refused restore (a rollback) restored nothing, so nothing can be lost; the status keeps saying why.
            return true;
        }

        board.SetState(AgentState.Stopping);
        var outcome = await backups.RunAsync(BackupKind.Final, $"stop ({reason})", null, cancellationToken);
        if (!outcome.Committed)
        {
            board.SetState(AgentState.Running);
        }

        return outcome.Committed;
    }

    public async Task PowerOffAsync(StopReason reason, CancellationToken cancellationToken)
    {
        if (board.EndReason == SessionEnd.Interruption)
        {
            // EC2 is ending this instance: doing it ourselves would forfeit the free first hour.
            LogPowerOffSkipped(logger, reason);
            return;
        }

        await notifier.NotifyAsync(NotificationKind.Stopping, $"Your work is saved; powering off now ({reason.ToString().ToLowerInvariant()}).", cancellationToken);
        await sessions.RecordAsync(cancellationToken);
        var command = options.Value.ResolvePowerOffCommand();
        LogPowerOff(logger, reason, string.Join(' ', command));
        using var process = System.Diagnostics.Process.Start(command[0], command.Skip(1));
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            // The planner tries again at its next tick; the backup is already safe.
            throw new IOException($"'{string.Join(' ', command)}' exited with code {process.ExitCode}");
        }
    }

    public static SessionEnd Map(StopReason reason) => reason switch
    {
        StopReason.Idle => SessionEnd.Idle,
        StopReason.Schedule => SessionEnd.Schedule,
        StopReason.MaxSessionLength => SessionEnd.MaxSessionLength,
        _ => SessionEnd.Manual,
    };

    [LoggerMessage(EventId = 3402, Level = LogLevel.Information, Message = "Not powering off ({Reason}): a spot notice came first and EC2 ends the instance")]
    private static partial void LogPowerOffSkipped(ILogger logger, StopReason reason);

    [LoggerMessage(EventId = 3401, Level = LogLevel.Warning, Message = "Powering off ({Reason}) with '{Command}': the final backup committed")]
    private static partial void LogPowerOff(ILogger logger, StopReason reason, string command);
}

/// <summary>Writes the session record once, when the session ends (power-off, interruption, or the agent's stop).</summary>
internal sealed partial class SessionRecorder(AgentStatusBoard board, BoxStorage storage, TimeProvider time, ILogger<SessionRecorder> logger)
{
    private int _written;

    public async Task RecordAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _written, 1) == 1)
        {
            return;
        }

        var s = board.Current;
        var record = new SessionRecord
        {
            Box = s.Box,
            InstanceId = s.InstanceId,
            InstanceType = s.InstanceType,
            AvailabilityZone = s.AvailabilityZone,
            Lifecycle = s.Lifecycle,
            Start = s.SessionStart,
            End = time.GetUtcNow(),
            EndedBy = board.EndReason ?? SessionEnd.ServiceStopped,
            Detail = board.EndDetail,
            LastSnapshotId = s.LastSnapshotId,
            LastSnapshotPartial = s.LastSnapshotPartial,
        };
        try
        {
            await storage.WriteSessionAsync(record, cancellationToken);
            LogSessionRecorded(logger, record.EndedBy, record.Start, record.End, (record.End - record.Start).TotalSeconds);
        }
        catch (Backup.Storage.StorageException e)
        {
            Interlocked.Exchange(ref _written, 0);
            LogSessionNotRecorded(logger, e.Message);
        }
    }

    [LoggerMessage(EventId = 3500, Level = LogLevel.Information, Message = "Session recorded: ended by {EndedBy}, {Start} to {End} ({Seconds:0} s)")]
    private static partial void LogSessionRecorded(ILogger logger, SessionEnd endedBy, DateTimeOffset start, DateTimeOffset end, double seconds);

    [LoggerMessage(EventId = 3501, Level = LogLevel.Warning, Message = "The session record could not be written: {Reason}")]
    private static partial void LogSessionNotRecorded(ILogger logger, string reason);
}
