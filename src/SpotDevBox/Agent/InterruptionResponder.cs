using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SpotDevBox.Backup.Engine;
using SpotDevBox.Backup.Storage;
using SpotDevBox.Core.Agent;
using SpotDevBox.Core.FileSystem;
using SpotDevBox.Core.Interruption;

namespace SpotDevBox.Agent;

/// <summary>
/// What the agent does with the watcher's signals. A stop or terminate notice starts the final
/// incremental backup at once (or, during the start-up restore, as soon as the restore is done), bounded
/// by the notice's time minus the safety margin, tells logins that an interruption is pending, records
/// the interruption in storage, and then waits: EC2 ends the instance (ending it ourselves would forfeit
/// the first-hour-free rule). A notice brought forward moves the running backup's deadline earlier.
/// Each method returns at once; the work runs on tracked tasks.
/// </summary>
internal sealed partial class InterruptionResponder(
    AgentBackups backups,
    AgentStatusBoard board,
    BoxStorage storage,
    Notifier notifier,
    IOptions<InterruptionOptions> options,
    IOptions<AgentOptions> agentOptions,
    TimeProvider time,
    ILogger<InterruptionResponder> logger) : IInterruptionHandler, IDisposable
{
    private readonly ConcurrentBag<Task> _work = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private InstanceAction? _action;
    private BackupDeadline? _deadline;

    /// <summary>The final backup a notice started, if any: the agent's stop waits for it instead of starting another.</summary>
    public Task? FinalBackup { get; private set; }

    /// <summary>After <see cref="DrainAsync"/>: a notice's final backup was due (not for hibernation) and did not commit, or did not finish.</summary>
    public bool FinalBackupFailed => _backupDue && _finalOutcome is not { Committed: true };

    private volatile bool _backupDue;
    private BackupOutcome? _finalOutcome;

    public Task OnInstanceActionAsync(InstanceAction action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(action);
        var seen = time.GetUtcNow();
        var deadline = options.Value.BackupDeadline(action);
        LogNotice(logger, action.Kind, action.Time, deadline, action.Time - seen);
        board.DecideEnd(SessionEnd.Interruption, $"spot {action.Kind.ToString().ToLowerInvariant()} notice for {action.Time:u}");
        board.Update(s => s with { Notice = $"{action.Kind.ToString().ToLowerInvariant()} at {action.Time:u}", State = AgentState.Interrupted });
        var backupDeadline = new BackupDeadline(deadline);
        lock (_gate)
        {
            _action = action;
            _deadline = backupDeadline;
        }

        TellLogins(action, null);
        _backupDue = action.Kind != InstanceActionKind.Hibernate;
        var task = action.Kind == InstanceActionKind.Hibernate
            ? Task.Run(() => HibernateAsync(action, seen), CancellationToken.None)
            : Task.Run(() => FinalBackupAsync(action, seen, backupDeadline), CancellationToken.None);
        FinalBackup = task;
        _work.Add(task);
        return Task.CompletedTask;
    }

    /// <summary>The notice now gives an earlier time: the running final backup's deadline moves earlier; nothing starts again.</summary>
    public Task OnInstanceActionTightenedAsync(InstanceAction action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(action);
        var deadline = options.Value.BackupDeadline(action);
        InstanceAction? first;
        BackupDeadline? running;
        lock (_gate)
        {
            first = _action;
            running = _deadline;
            if (first is null || action.Time >= first.Time)
            {
                return Task.CompletedTask;
            }

            _action = first with { Time = action.Time };
        }

        var moved = running?.MoveEarlier(deadline) ?? false;
        LogTightened(logger, first.Time, action.Time, deadline, moved);
        board.Update(s => s with { Notice = $"{first.Kind.ToString().ToLowerInvariant()} at {action.Time:u}" });
        TellLogins(first with { Time = action.Time }, null);
        return Task.CompletedTask;
    }

    public Task OnRebalanceRecommendationAsync(RebalanceRecommendation recommendation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recommendation);
        LogRebalance(logger, recommendation.NoticeTime);
        _work.Add(Task.Run(async () =>
        {
            await notifier.NotifyAsync(
                NotificationKind.Rebalance,
                "AWS says this spot instance is at elevated risk of interruption. Your work is being backed up now; nothing stops. Save often.",
                _stopping.Token);
            await backups.RunAsync(BackupKind.Rebalance, "rebalance recommendation", null, _stopping.Token);
        }, CancellationToken.None));
        return Task.CompletedTask;
    }

    public Task OnMaintenanceEventAsync(MaintenanceEvent maintenanceEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(maintenanceEvent);
        var window = maintenanceEvent.NotAfter is { } end
            ? string.Create(CultureInfo.InvariantCulture, $"{maintenanceEvent.NotBefore:u} to {end:u}")
            : string.Create(CultureInfo.InvariantCulture, $"from {maintenanceEvent.NotBefore:u}");
        LogMaintenance(logger, maintenanceEvent.Code, maintenanceEvent.EventId, maintenanceEvent.NotBefore, maintenanceEvent.NotAfter, maintenanceEvent.Description);
        _work.Add(notifier.NotifyAsync(
            NotificationKind.Maintenance,
            $"AWS scheduled '{maintenanceEvent.Code}' for this instance, {window} ({maintenanceEvent.Description}). The box will stop then; work is backed up every few minutes.",
            _stopping.Token));
        return Task.CompletedTask;
    }

    public void Dispose() => _stopping.Dispose();

    /// <summary>Waits for the work the signals started (the final backup above all), at most until <paramref name="cancellationToken"/>.</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.WhenAll(_work).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            await _stopping.CancelAsync();
        }
    }

    private async Task FinalBackupAsync(InstanceAction first, DateTimeOffset seen, BackupDeadline deadline)
    {
        var notify = notifier.NotifyAsync(
            NotificationKind.Notice,
            string.Create(CultureInfo.InvariantCulture, $"AWS is reclaiming this spot instance at {first.Time:HH:mm:ss} UTC ({first.Kind.ToString().ToLowerInvariant()}). Saving your work now; save your files immediately."),
            _stopping.Token);
        var outcome = await backups.RunAsync(BackupKind.Interruption, $"spot {first.Kind.ToString().ToLowerInvariant()} notice", deadline, _stopping.Token);
        // The notice as it stands now: its time may have been brought forward while the backup ran.
        InstanceAction action;
        lock (_gate)
        {
            action = _action ?? first;
        }

        _finalOutcome = outcome;
        TellLogins(action, outcome);
        var spare = outcome.DurableAt is { } at ? (action.Time - at).TotalSeconds : (double?)null;
        if (outcome.Committed)
        {
            LogSaved(logger, outcome.SnapshotId![..8], outcome.DurableAt!.Value, spare!.Value, outcome.Partial, outcome.IncompleteFiles);
            // The controller exports it (docs/controller.md "Metrics"): the box opens no port and reaches no collector.
            board.Update(s => s with { NoticeToDurableSeconds = (outcome.DurableAt!.Value - seen).TotalSeconds });
        }
        else
        {
            LogNotSaved(logger, outcome.Error ?? "unknown");
        }

        await RecordAsync(new InterruptionRecord
        {
            Box = storage.BoxName,
            InstanceId = board.Current.InstanceId,
            Action = action.Kind.ToString().ToLowerInvariant(),
            NoticeTime = action.Time,
            SeenAt = seen,
            Deadline = deadline.Value,
            SnapshotDurableAt = outcome.DurableAt,
            SnapshotId = outcome.SnapshotId,
            SnapshotPartial = outcome.Partial,
            IncompleteFiles = outcome.IncompleteFiles,
            SecondsToSpare = spare,
            Error = outcome.Committed ? null : outcome.Error,
        });
        await notify;
        LogWaiting(logger);
    }

    private async Task HibernateAsync(InstanceAction action, DateTimeOffset seen)
    {
        // No lead time: push what the kernel holds to the disk, which hibernation keeps; the record goes out if the network still lets it.
        try
        {
            using var sync = System.Diagnostics.Process.Start("sync");
            await sync.WaitForExitAsync(_stopping.Token);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            LogSyncFailed(logger, e.Message);
        }

        await RecordAsync(new InterruptionRecord
        {
            Box = storage.BoxName,
            InstanceId = board.Current.InstanceId,
            Action = "hibernate",
            NoticeTime = action.Time,
            SeenAt = seen,
            Deadline = action.Time,
        });
    }

    /// <summary>
    /// The login message (<c>/etc/profile.d/spotdevbox.sh</c> prints <c>RunDirectory/interruption</c>): whoever
    /// logs in after the notice, even one that came during the start-up restore, learns that the box is going.
    /// </summary>
    private void TellLogins(InstanceAction action, BackupOutcome? outcome)
    {
        var kind = action.Kind.ToString().ToLowerInvariant();
        var saved = outcome switch
        {
            null => "Your work is being saved now; save your files and expect to be disconnected.",
            { Committed: true } => string.Create(CultureInfo.InvariantCulture, $"Your work up to {outcome.DurableAt:HH:mm:ss} UTC is saved (snapshot {outcome.SnapshotId![..8]}{(outcome.Partial ? ", partial" : "")}); later changes may be lost."),
            _ => $"The final backup did not commit ({outcome.Error}); only the last periodic snapshot survives.",
        };
        var text = string.Create(CultureInfo.InvariantCulture, $"spotdevbox: a spot interruption is pending: AWS will {kind} this instance at {action.Time:HH:mm:ss} UTC. {saved}\n");
        var path = Path.Combine(agentOptions.Value.RunDirectory, "interruption");
        try
        {
            RunDirectory.Ensure(agentOptions.Value.RunDirectory);
            AtomicFile.Write(path, System.Text.Encoding.UTF8.GetBytes(text), AtomicFile.WorldReadable);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogLoginNoticeFailed(logger, path, e.Message);
        }
    }

    private async Task RecordAsync(InterruptionRecord record)
    {
        try
        {
            await storage.WriteInterruptionAsync(record, _stopping.Token);
        }
        catch (StorageException e)
        {
            LogRecordFailed(logger, e.Message);
        }
    }

    // The watcher logs the notice itself (event 3900); this is the agent's decision about it.
    [LoggerMessage(EventId = 3200, Level = LogLevel.Warning, Message = "Interruption: final backup starting for the {Action} at {ActionTime}, deadline {Deadline} ({LeadTime} left)")]
    private static partial void LogNotice(ILogger logger, InstanceActionKind action, DateTimeOffset actionTime, DateTimeOffset deadline, TimeSpan leadTime);

    [LoggerMessage(EventId = 3201, Level = LogLevel.Warning, Message = "Interruption: snapshot {SnapshotId} durable at {DurableAt} with {SecondsToSpare:0.0} s to spare before the action (partial: {Partial}, {Incomplete} entries at an older version)")]
    private static partial void LogSaved(ILogger logger, string snapshotId, DateTimeOffset durableAt, double secondsToSpare, bool partial, int incomplete);

    [LoggerMessage(EventId = 3202, Level = LogLevel.Error, Message = "Interruption: the final backup did not commit: {Reason}; the last periodic snapshot is what survives")]
    private static partial void LogNotSaved(ILogger logger, string reason);

    [LoggerMessage(EventId = 3203, Level = LogLevel.Information, Message = "Interruption handled; waiting for EC2 to end the instance (never ended by the agent: the first hour of an interrupted spot instance is free)")]
    private static partial void LogWaiting(ILogger logger);

    [LoggerMessage(EventId = 3204, Level = LogLevel.Information, Message = "Rebalance recommendation of {NoticeTime}: early backup, users told, no shutdown")]
    private static partial void LogRebalance(ILogger logger, DateTimeOffset noticeTime);

    [LoggerMessage(EventId = 3205, Level = LogLevel.Warning, Message = "Scheduled maintenance {Code} ({EventId}) from {NotBefore} to {NotAfter}: {Description}")]
    private static partial void LogMaintenance(ILogger logger, string code, string eventId, DateTimeOffset notBefore, DateTimeOffset? notAfter, string description);

    [LoggerMessage(EventId = 3206, Level = LogLevel.Warning, Message = "The interruption record could not be written: {Reason}")]
    private static partial void LogRecordFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 3208, Level = LogLevel.Warning, Message = "Interruption: the notice was brought forward from {Previous} to {ActionTime}; deadline now {Deadline} (running final backup moved: {Moved})")]
    private static partial void LogTightened(ILogger logger, DateTimeOffset previous, DateTimeOffset actionTime, DateTimeOffset deadline, bool moved);

    [LoggerMessage(EventId = 3209, Level = LogLevel.Warning, Message = "The login message {Path} could not be written: {Reason}")]
    private static partial void LogLoginNoticeFailed(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 3207, Level = LogLevel.Warning, Message = "sync before hibernation failed: {Reason}")]
    private static partial void LogSyncFailed(ILogger logger, string reason);
}
